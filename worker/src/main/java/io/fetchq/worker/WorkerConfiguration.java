package io.fetchq.worker;

import io.fetchq.db.BatchQueries;
import io.fetchq.db.DbConfiguration;
import io.fetchq.db.DbConnections;
import io.fetchq.db.Notifier;
import io.fetchq.db.HostLedger;
import io.fetchq.db.JobQueries;
import io.fetchq.db.QueueQueries;
import io.fetchq.db.RetentionQueries;
import io.fetchq.db.WebhookQueries;
import io.fetchq.db.WorkerQueries;
import io.fetchq.url.FetchProperties;
import io.fetchq.url.UrlConfiguration;
import io.fetchq.url.UrlPolicy;
import io.fetchq.worker.fetch.BodyBudget;
import io.fetchq.worker.fetch.HttpFetcher;
import io.fetchq.worker.retention.Retention;
import io.fetchq.worker.retention.RetentionProperties;
import io.fetchq.worker.time.Ticker;
import io.fetchq.worker.webhook.WebhookProperties;
import io.fetchq.worker.webhook.WebhookSender;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import javax.sql.DataSource;
import okhttp3.Dns;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Qualifier;
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
@Import({DbConfiguration.class, UrlConfiguration.class})
@EnableConfigurationProperties({WorkerProperties.class, RetentionProperties.class, WebhookProperties.class})
@ConditionalOnBooleanProperty(name = "fetchq.worker.enabled", matchIfMissing = true)
public class WorkerConfiguration {

    @Bean
    WorkerMetrics fetchqWorkerMetrics(ObjectProvider<MeterRegistry> meters) {
        MeterRegistry registry = meters.getIfAvailable();
        return registry == null ? WorkerMetrics.none() : new WorkerMetrics(registry);
    }

    @Bean(destroyMethod = "")
    Worker fetchqWorker(WorkerProperties properties, QueueQueries queue, WorkerQueries workers, HostLedger ledger,
            UrlPolicy policy,
            FetchProperties fetch, WorkerMetrics metrics,
            @Qualifier(DbConfiguration.FINISHED_NOTIFIER) Notifier finishedNotifier) {
        BodyBudget budget = new BodyBudget(properties.maxBodyMemory().toBytes());
        metrics.bindBodyBudget(budget);
        HttpFetcher fetcher = new HttpFetcher(policy, fetch, properties.maxInFlight(), Dns.SYSTEM,
                Clock.systemUTC(), budget, properties.id(), () -> metrics.loopFailed("call-deadlines"));
        return new Worker(properties, queue, workers, ledger, fetcher, metrics, Clock.systemUTC(), Ticker.SYSTEM,
                finishedNotifier::announce);
    }

    @Bean(destroyMethod = "")
    Retention fetchqRetention(RetentionProperties properties, RetentionQueries queries, WorkerProperties worker,
            WorkerMetrics metrics) {
        return new Retention(properties, queries, () -> metrics.loopFailed("retention"), worker.id());
    }

    @Bean(destroyMethod = "")
    WebhookSender fetchqWebhookSender(WebhookProperties properties, WebhookQueries webhooks, JobQueries jobs,
            BatchQueries batches, UrlPolicy policy, FetchProperties fetch, WorkerProperties worker, WorkerMetrics metrics) {
        return new WebhookSender(properties, webhooks, jobs, batches, policy, fetch, Dns.SYSTEM, Clock.systemUTC(),
                metrics, worker.id(), () -> metrics.loopFailed("webhooks"));
    }

    /**
     * Starts the worker (and its LISTEN connection) once the context is up, and stops both
     * gracefully before the database goes.
     */
    @Bean
    SmartLifecycle fetchqWorkerLifecycle(Worker worker, Retention retention, WebhookSender webhooks,
            DataSource dataSource, WorkerMetrics metrics) {
        return new SmartLifecycle() {
            private volatile boolean running;
            private NotificationListener listener;

            @Override
            public void start() {
                worker.start();
                listener = new NotificationListener(() -> DbConnections.dedicated(dataSource), worker::wake, worker.id(),
                        metrics);
                listener.start();
                retention.start();
                webhooks.start();
                running = true;
            }

            @Override
            public void stop() {
                webhooks.close();
                retention.close();
                listener.close();
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
