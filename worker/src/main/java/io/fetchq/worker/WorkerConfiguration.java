package io.fetchq.worker;

import io.fetchq.db.DbConfiguration;
import io.fetchq.db.FetchProperties;
import io.fetchq.db.QueueQueries;
import io.fetchq.db.WorkerQueries;
import io.fetchq.url.UrlPolicy;
import io.fetchq.worker.fetch.Fetcher;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;

/**
 * The worker as Spring beans, for the worker application and for the API's in-process worker.
 * Enabled by {@code fetchq.worker.enabled}.
 */
@Configuration(proxyBeanMethods = false)
@Import(DbConfiguration.class)
@EnableConfigurationProperties(WorkerProperties.class)
@ConditionalOnBooleanProperty(name = "fetchq.worker.enabled", matchIfMissing = true)
public class WorkerConfiguration {

    @Bean(destroyMethod = "")
    Worker fetchqWorker(WorkerProperties properties, QueueQueries queue, WorkerQueries workers, UrlPolicy policy,
            FetchProperties fetch) {
        return new Worker(properties, queue, workers, new Fetcher(policy, fetch, properties.maxInFlight()));
    }

    /** Starts the worker once the context is up and stops it gracefully before the database goes. */
    @Bean
    SmartLifecycle fetchqWorkerLifecycle(Worker worker) {
        return new SmartLifecycle() {
            private volatile boolean running;

            @Override
            public void start() {
                worker.start();
                running = true;
            }

            @Override
            public void stop() {
                worker.close();
                running = false;
            }

            @Override
            public boolean isRunning() {
                return running;
            }

            @Override
            public int getPhase() {
                // Late start, early stop: after the web server is up, before it goes.
                return Integer.MAX_VALUE - 100;
            }
        };
    }
}
