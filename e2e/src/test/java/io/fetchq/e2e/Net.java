package io.fetchq.e2e;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

/** Loopback and database helpers shared by the end-to-end tests. */
final class Net {

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private Net() {
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** A count from the database, or -1 while it cannot be reached. */
    static long count(String jdbcUrl, String sql) {
        try (java.sql.Connection c = java.sql.DriverManager.getConnection(jdbcUrl);
                java.sql.ResultSet rs = c.createStatement().executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        } catch (java.sql.SQLException e) {
            return -1;
        }
    }

    /** A field's value in a flat JSON answer, as text (without quotes). */
    /** The first column of every row, as text. */
    static java.util.List<String> strings(String jdbcUrl, String sql) {
        try (java.sql.Connection c = java.sql.DriverManager.getConnection(jdbcUrl);
                java.sql.ResultSet rs = c.createStatement().executeQuery(sql)) {
            java.util.List<String> values = new java.util.ArrayList<>();
            while (rs.next()) {
                values.add(rs.getString(1));
            }
            return values;
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    static String field(String json, String name) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"" + name + "\":\\s*\"?([^,\"}]*)").matcher(json);
        org.assertj.core.api.Assertions.assertThat(m.find()).as("%s in %s", name, json).isTrue();
        return m.group(1);
    }

    /** The status of a GET, or -1 while nothing answers. */
    static int httpStatus(String url) {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.discarding())
                    .statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }
}
