package io.fetchq.worker;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Import;

/** A fetchq worker process: it needs only the database URL. */
@SpringBootApplication
@Import(WorkerConfiguration.class)
public class FetchqWorkerApplication {

    public static void main(String[] args) {
        SpringApplication.run(FetchqWorkerApplication.class, args);
    }
}
