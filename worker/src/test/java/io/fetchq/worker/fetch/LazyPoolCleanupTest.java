package io.fetchq.worker.fetch;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import okhttp3.ConnectionPool;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/** The fetcher's pools keep connections alive, and still close idle ones though nothing wakes their cleanup. */
class LazyPoolCleanupTest {

    @Test
    void anIdleConnectionIsClosedOnceItsKeepAliveIsOver() throws Exception {
        // A keep-alive server (the JDK's).
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        byte[] page = "<html><title>t</title></html>".getBytes(StandardCharsets.UTF_8);
        server.createContext("/", exchange -> {
            exchange.getRequestBody().readAllBytes();
            exchange.sendResponseHeaders(200, page.length);
            exchange.getResponseBody().write(page);
            exchange.close();
        });
        server.start();
        ConnectionPool pool = LazyPoolCleanup.pool(5, Duration.ofMillis(300));
        OkHttpClient client = new OkHttpClient.Builder().connectionPool(pool).build();
        try {
            for (int i = 0; i < 3; i++) {
                Request request = new Request.Builder()
                        .url("http://127.0.0.1:" + server.getAddress().getPort() + "/p" + i).build();
                try (Response response = client.newCall(request).execute()) {
                    assertThat(response.code()).isEqualTo(200);
                    response.body().string();
                }
            }
            assertThat(pool.connectionCount()).as("one kept-alive connection served all three").isEqualTo(1);
            Awaitility.await("the idle connection closed").atMost(Duration.ofSeconds(10))
                    .until(() -> pool.connectionCount() == 0);
        } finally {
            client.dispatcher().executorService().shutdown();
            server.stop(0);
        }
    }
}
