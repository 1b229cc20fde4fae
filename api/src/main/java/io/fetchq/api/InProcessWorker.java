package io.fetchq.api;

import io.fetchq.worker.Worker;
import io.fetchq.worker.WorkerConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.context.event.EventListener;

/**
 * A worker inside the API process, on when {@code fetchq.worker.enabled=true}: the default of the
 * one-command (embedded database) mode, off otherwise. New jobs wake it at once.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnBooleanProperty(name = "fetchq.worker.enabled")
@Import(WorkerConfiguration.class)
class InProcessWorker {

    /** Published after jobs are committed. */
    record JobsSubmitted() {
    }

    private final Worker worker;

    InProcessWorker(Worker worker) {
        this.worker = worker;
    }

    @EventListener
    void wake(JobsSubmitted event) {
        worker.wake();
    }
}
