package io.fetchq.worker;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Import;
import sun.misc.Signal;

/** A fetchq worker process: it needs only the database URL. */
@SpringBootApplication
@Import(WorkerConfiguration.class)
public class FetchqWorkerApplication {

    public static void main(String[] args) {
        // SIGTERM (docker stop, kill) is the normal way to stop a worker: exit 0 once the shutdown
        // hooks (graceful drain) are done, not the JVM's 143.
        Signal.handle(new Signal("TERM"), signal -> System.exit(0));
        SpringApplication.run(FetchqWorkerApplication.class, args);
    }
}
