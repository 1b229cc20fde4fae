package io.fetchq.db.testing;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.sql.DataSource;

/**
 * A data source that, before each query it runs, asks PostgreSQL for the query's plan
 * ({@code EXPLAIN}, with the same parameters, on the same connection) and keeps it: the real SQL of
 * the real code, planned as the server plans it, for tests that hold reads to their indexes.
 */
public final class ExplainingDataSource {

    /** A query the code ran, and the plan PostgreSQL chose for it. */
    public record Planned(String sql, String plan) {
    }

    private final DataSource target;
    private final boolean analyze;
    private final List<Planned> planned = new ArrayList<>();

    public ExplainingDataSource(DataSource target) {
        this(target, false);
    }

    /**
     * @param analyze run each statement as {@code EXPLAIN (ANALYZE, BUFFERS)} first, in a transaction
     *     rolled back (writes included): the plan with the rows and pages it really read
     */
    public ExplainingDataSource(DataSource target, boolean analyze) {
        this.target = target;
        this.analyze = analyze;
    }

    /** The data source to give the code under test. */
    public DataSource dataSource() {
        return proxy(DataSource.class, (p, m, args) -> {
            Object result = invoke(target, m, args);
            return result instanceof Connection c ? connection(c) : result;
        });
    }

    /** Queries planned since the last call, and forgets them. */
    public synchronized List<Planned> take() {
        List<Planned> taken = List.copyOf(planned);
        planned.clear();
        return taken;
    }

    private Connection connection(Connection c) {
        return proxy(Connection.class, (p, m, args) -> {
            Object result = invoke(c, m, args);
            if (result instanceof PreparedStatement ps && m.getName().equals("prepareStatement")) {
                return prepared(c, ps, (String) args[0]);
            }
            if (result instanceof Statement s && m.getName().equals("createStatement")) {
                return statement(c, s);
            }
            return result;
        });
    }

    private PreparedStatement prepared(Connection c, PreparedStatement ps, String sql) {
        List<Object[]> settings = new ArrayList<>();
        List<Method> setters = new ArrayList<>();
        return proxy(PreparedStatement.class, (p, m, args) -> {
            if (m.getName().startsWith("set") && args != null && args.length >= 2 && args[0] instanceof Integer) {
                setters.add(m);
                settings.add(args);
            } else if (m.getName().equals("clearParameters")) {
                setters.clear();
                settings.clear();
            } else if ((m.getName().equals("executeQuery") || analyze && m.getName().equals("executeUpdate"))
                    && (args == null || args.length == 0) && (isQuery(sql) || analyze)) {
                boolean autoCommit = c.getAutoCommit();
                java.sql.Savepoint before = null;
                if (analyze && autoCommit) {
                    c.setAutoCommit(false);
                } else if (analyze) {
                    before = c.setSavepoint();
                }
                try (PreparedStatement explain = c.prepareStatement(
                        (analyze ? "EXPLAIN (ANALYZE, BUFFERS) " : "EXPLAIN ") + sql)) {
                    for (int i = 0; i < setters.size(); i++) {
                        setters.get(i).invoke(explain, settings.get(i));
                    }
                    record(sql, explain.executeQuery());
                } finally {
                    if (analyze && before != null) {
                        c.rollback(before);
                    } else if (analyze) {
                        c.rollback();
                        c.setAutoCommit(true);
                    }
                }
            }
            return invoke(ps, m, args);
        });
    }

    private Statement statement(Connection c, Statement s) {
        return proxy(Statement.class, (p, m, args) -> {
            if (m.getName().equals("executeQuery") && args != null && args.length == 1 && isQuery((String) args[0])) {
                try (Statement explain = c.createStatement()) {
                    record((String) args[0], explain.executeQuery("EXPLAIN " + args[0]));
                }
            }
            return invoke(s, m, args);
        });
    }

    private synchronized void record(String sql, ResultSet plan) throws java.sql.SQLException {
        StringBuilder text = new StringBuilder();
        while (plan.next()) {
            text.append(plan.getString(1)).append('\n');
        }
        planned.add(new Planned(sql, text.toString()));
    }

    private static boolean isQuery(String sql) {
        String s = sql.strip().toUpperCase(Locale.ROOT);
        return s.startsWith("SELECT") || s.startsWith("WITH");
    }

    private static Object invoke(Object target, Method m, Object[] args) throws Throwable {
        try {
            return m.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    @SuppressWarnings("unchecked")
    private static <T> T proxy(Class<T> type, InvocationHandler handler) {
        return (T) Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, handler);
    }
}
