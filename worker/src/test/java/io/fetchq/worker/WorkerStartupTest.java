package io.fetchq.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchq.db.testing.TestDatabase;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

@SpringBootTest(properties = "spring.main.keep-alive=false")
class WorkerStartupTest {

    @DynamicPropertySource
    static void database(DynamicPropertyRegistry registry) {
        registry.add("spring.datasource.url", TestDatabase::sharedUrl);
    }

    @Autowired
    JdbcClient sql;

    @Test
    void workerMigratesTheSchemaWhenItStarts() {
        assertThat(sql.sql("SELECT count(*) FROM information_schema.views WHERE table_schema = 'fetchq'")
                .query(Long.class).single()).isEqualTo(12);
    }
}
