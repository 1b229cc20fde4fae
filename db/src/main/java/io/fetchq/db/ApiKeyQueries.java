package io.fetchq.db;

import java.sql.Array;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/**
 * API keys ({@code fetchq.api_key}): create, look up by hash, list, revoke. Keys are created by
 * {@code fetchq.create_api_key}, the same function an administrator may call in SQL.
 */
@Repository
public class ApiKeyQueries {

    /** A key that may be used: its id, tenant and scopes. */
    public record ActiveKey(long id, String tenant, List<String> scopes) {
    }

    /**
     * Finds an unrevoked key by the SHA-256 of its plaintext and, at most once a minute, records
     * that it was used, in one round trip.
     */
    private static final String AUTHENTICATE = """
            WITH k AS (
                SELECT id, tenant, scopes, last_used_at FROM fetchq.api_key
                WHERE key_hash = :hash AND revoked_at IS NULL
            ), touched AS (
                UPDATE fetchq.api_key a SET last_used_at = now()
                FROM k
                WHERE a.id = k.id AND (k.last_used_at IS NULL OR k.last_used_at < now() - interval '1 minute')
            )
            SELECT id, tenant, scopes FROM k
            """;

    private static final String COLUMNS = "id, NULL AS key, prefix, tenant, scopes, name, created_at, last_used_at, revoked_at";

    private final JdbcClient jdbc;

    public ApiKeyQueries(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    /** Creates a key; the answer is the only place its plaintext is ever returned. */
    public ApiKeyRow create(String tenant, List<String> scopes, String name) {
        return jdbc.sql("""
                SELECT id, key, prefix, tenant, scopes, name, created_at, NULL AS last_used_at, NULL AS revoked_at
                FROM fetchq.create_api_key(:tenant, CAST(:scopes AS text[]), :name)""")
                .param("tenant", tenant)
                .param("scopes", "{" + String.join(",", scopes) + "}")
                .param("name", name)
                .query(ApiKeyQueries::row)
                .single();
    }

    public Optional<ActiveKey> authenticate(byte[] sha256) {
        return jdbc.sql(AUTHENTICATE)
                .param("hash", sha256)
                .query((rs, n) -> new ActiveKey(rs.getLong("id"), rs.getString("tenant"), strings(rs.getArray("scopes"))))
                .optional();
    }

    /** Every key, revoked ones included, newest first. */
    public List<ApiKeyRow> list() {
        return jdbc.sql("SELECT " + COLUMNS + " FROM fetchq.api_key ORDER BY id DESC").query(ApiKeyQueries::row).list();
    }

    /** Revokes a key (once: a revoked key keeps its first revocation time). Empty when there is no such key. */
    public Optional<ApiKeyRow> revoke(long id) {
        return jdbc.sql("UPDATE fetchq.api_key SET revoked_at = COALESCE(revoked_at, now()) WHERE id = :id RETURNING "
                        + COLUMNS)
                .param("id", id)
                .query(ApiKeyQueries::row)
                .optional();
    }

    /** Keys that may be used. */
    public long countActive() {
        return jdbc.sql("SELECT count(*) FROM fetchq.api_key WHERE revoked_at IS NULL").query(Long.class).single();
    }

    private static ApiKeyRow row(ResultSet rs, int n) throws SQLException {
        return new ApiKeyRow(rs.getLong("id"), rs.getString("key"), rs.getString("prefix"), rs.getString("tenant"),
                strings(rs.getArray("scopes")), rs.getString("name"), rs.getObject("created_at", OffsetDateTime.class),
                rs.getObject("last_used_at", OffsetDateTime.class), rs.getObject("revoked_at", OffsetDateTime.class));
    }

    private static List<String> strings(Array array) throws SQLException {
        return Arrays.asList((String[]) array.getArray());
    }
}
