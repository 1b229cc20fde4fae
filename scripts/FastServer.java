import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;

/**
 * A fast loopback HTTP server for measurements: every path answers 200 with a 2 KiB HTML page.
 * Run with {@code java scripts/FastServer.java PORT}.
 */
public class FastServer {
    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        String filler = "x".repeat(2048 - 80);
        byte[] page = ("<html><head><title>bench</title></head><body>" + filler + "</body></html>")
                .getBytes(StandardCharsets.UTF_8);
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 4096);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/", exchange -> {
            exchange.getRequestBody().readAllBytes();
            exchange.getResponseHeaders().set("Content-Type", "text/html; charset=utf-8");
            exchange.sendResponseHeaders(200, page.length);
            exchange.getResponseBody().write(page);
            exchange.close();
        });
        server.start();
        System.out.println("listening on 127.0.0.1:" + port);
    }
}
