package io.fetchq.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * CPU time and context switches of processes, read from Linux's {@code /proc}: a process with its
 * descendants (a launched JVM, nginx and its worker), or every process of a name (PostgreSQL's
 * postmaster and backends). CPU counts the live processes' own time and, for the root of each
 * group, the time of its children that exited (a PostgreSQL backend that ended). Context switches
 * are summed over every thread of the live processes. Ticks are taken as 100 a second (Linux's
 * {@code USER_HZ} on every common architecture).
 */
final class ProcessCpu {

    private static final long MICROS_PER_TICK = 10_000;

    /**
     * CPU microseconds and context switches (voluntary and not) so far, and of the CPU the part of
     * the JVMs' JIT compiler threads (none for other processes).
     */
    record Usage(long cpuMicros, long switches, long compilerMicros) {
        Usage minus(Usage before) {
            return new Usage(cpuMicros - before.cpuMicros, switches - before.switches,
                    compilerMicros - before.compilerMicros);
        }

        Usage plus(Usage other) {
            return new Usage(cpuMicros + other.cpuMicros, switches + other.switches,
                    compilerMicros + other.compilerMicros);
        }
    }

    /** One process as {@code /proc/<pid>/stat} describes it. */
    private record Stat(long pid, long ppid, String comm, long ownTicks, long childTicks) {
    }

    private ProcessCpu() {
    }

    /** Whether this machine has {@code /proc} to read. */
    static boolean available() {
        return Files.isReadable(Path.of("/proc/self/stat"));
    }

    /** {@code root} and every live process below it. */
    static Usage tree(long root) {
        Map<Long, Stat> all = processes();
        Map<Long, List<Long>> children = new HashMap<>();
        all.values().forEach(s -> children.computeIfAbsent(s.ppid(), p -> new ArrayList<>()).add(s.pid()));
        long cpu = 0;
        long switches = 0;
        long compiler = 0;
        List<Long> todo = new ArrayList<>(List.of(root));
        while (!todo.isEmpty()) {
            long pid = todo.removeLast();
            Stat s = all.get(pid);
            if (s == null) {
                continue;
            }
            cpu += s.ownTicks() + (pid == root ? s.childTicks() : 0);
            switches += switches(pid);
            compiler += compilerTicks(pid);
            todo.addAll(children.getOrDefault(pid, List.of()));
        }
        return new Usage(cpu * MICROS_PER_TICK, switches, compiler * MICROS_PER_TICK);
    }

    /** Every process named {@code comm}, with the children that exited of those whose parent has another name. */
    static Usage named(String comm) {
        Map<Long, Stat> all = processes();
        long cpu = 0;
        long switches = 0;
        for (Stat s : all.values()) {
            if (!s.comm().equals(comm)) {
                continue;
            }
            Stat parent = all.get(s.ppid());
            boolean root = parent == null || !parent.comm().equals(comm);
            cpu += s.ownTicks() + (root ? s.childTicks() : 0);
            switches += switches(s.pid());
        }
        return new Usage(cpu * MICROS_PER_TICK, switches, 0);
    }

    private static Map<Long, Stat> processes() {
        Map<Long, Stat> all = new HashMap<>();
        try (Stream<Path> entries = Files.list(Path.of("/proc"))) {
            entries.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit)).forEach(p -> {
                try {
                    String line = Files.readString(p.resolve("stat"));
                    String[] f = fieldsAfterName(line);
                    // After the name: state(3) ppid(4) ... utime(14) stime(15) cutime(16) cstime(17).
                    all.put(Long.parseLong(p.getFileName().toString()), new Stat(Long.parseLong(p.getFileName().toString()),
                            Long.parseLong(f[1]), name(line), ownTicks(f), Long.parseLong(f[13]) + Long.parseLong(f[14])));
                } catch (IOException | RuntimeException gone) {
                    // The process ended while it was read.
                }
            });
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return all;
    }

    /** The name in a {@code /proc/.../stat} line (between the first "(" and the last ")": it may hold either). */
    private static String name(String statLine) {
        return statLine.substring(statLine.indexOf('(') + 1, statLine.lastIndexOf(')'));
    }

    /** The fields after the name of a {@code /proc/.../stat} line, from the state (field 3) on. */
    private static String[] fieldsAfterName(String statLine) {
        return statLine.substring(statLine.lastIndexOf(')') + 2).split(" ");
    }

    /** User and system ticks (fields 14 and 15) of {@link #fieldsAfterName}. */
    private static long ownTicks(String[] f) {
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }

    /** CPU ticks of the JIT compiler threads of {@code pid} (HotSpot names them "C1 CompilerThread0" and so on). */
    private static long compilerTicks(long pid) {
        long total = 0;
        try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            for (Path task : tasks.toList()) {
                try {
                    String line = Files.readString(task.resolve("stat"));
                    String comm = name(line);
                    if (comm.startsWith("C1 Compiler") || comm.startsWith("C2 Compiler")) {
                        total += ownTicks(fieldsAfterName(line));
                    }
                } catch (IOException | RuntimeException gone) {
                    // The thread ended while it was read (its time is lost to this count).
                }
            }
        } catch (IOException gone) {
            // The process ended.
        }
        return total;
    }

    /** Context switches of every thread of {@code pid}. */
    private static long switches(long pid) {
        long total = 0;
        try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            for (Path task : tasks.toList()) {
                try {
                    for (String line : Files.readAllLines(task.resolve("status"))) {
                        if (line.startsWith("voluntary_ctxt_switches:") || line.startsWith("nonvoluntary_ctxt_switches:")) {
                            total += Long.parseLong(line.substring(line.indexOf(':') + 1).strip());
                        }
                    }
                } catch (IOException | RuntimeException gone) {
                    // The thread ended while it was read.
                }
            }
        } catch (IOException gone) {
            // The process ended.
        }
        return total;
    }
}
