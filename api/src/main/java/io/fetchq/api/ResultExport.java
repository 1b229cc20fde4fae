package io.fetchq.api;

import io.fetchq.api.problem.ApiProblem;
import io.fetchq.api.problem.FieldError;
import io.fetchq.db.JobRow;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import tools.jackson.core.JsonGenerator;
import tools.jackson.databind.json.JsonMapper;

/**
 * A batch's results as a stream of NDJSON lines or CSV rows, one per job, with a chosen set of
 * fields. Rows are written as they are read, so memory does not grow with the batch.
 */
final class ResultExport {

    /** A field of an export: its name and how to read it from a result row. */
    private record Field(String name, Function<JobRow, Object> value, boolean json) {
    }

    /** Every field an export may carry, in their default order. */
    private static final Map<String, Field> FIELDS = new LinkedHashMap<>();

    static {
        field("job_id", JobRow::jobId);
        field("batch_id", JobRow::batchId);
        field("url", JobRow::url);
        field("host", JobRow::host);
        field("method", JobRow::method);
        field("state", r -> r.state().code());
        field("priority", JobRow::priority);
        field("attempts", JobRow::attempts);
        field("max_attempts", JobRow::maxAttempts);
        field("status_code", r -> r.result().statusCode());
        field("content_type", r -> r.result().contentType());
        field("body_bytes", r -> r.result().bodyBytes());
        field("body_truncated", r -> r.result().bodyTruncated());
        field("body_sha256", r -> r.result().bodySha256());
        field("title", r -> r.result().title());
        field("final_url", r -> r.result().finalUrl());
        field("error_kind", r -> r.result().errorKind());
        field("error_message", r -> r.result().errorMessage());
        field("total_ms", r -> r.result().totalMs());
        field("etag", r -> r.result().etag());
        field("last_modified", r -> r.result().lastModified());
        field("not_modified", r -> r.result().notModified());
        field("changed", r -> r.result().changed());
        field("crawl_id", JobRow::crawlId);
        field("depth", JobRow::depth);
        field("parent_job_id", JobRow::parentJobId);
        field("created_at", JobRow::createdAt);
        field("started_at", JobRow::startedAt);
        field("finished_at", JobRow::finishedAt);
        FIELDS.put("links", new Field("links", r -> r.result().links(), true));
        FIELDS.put("metadata", new Field("metadata", JobRow::metadata, true));
    }

    private static void field(String name, Function<JobRow, Object> value) {
        FIELDS.put(name, new Field(name, value, false));
    }

    enum Format {
        NDJSON("application/x-ndjson"), CSV("text/csv");

        final String mediaType;

        Format(String mediaType) {
            this.mediaType = mediaType;
        }
    }

    private final List<Field> fields;
    private final Format format;

    private ResultExport(List<Field> fields, Format format) {
        this.fields = fields;
        this.format = format;
    }

    /**
     * The export a request asks for: {@code fields} a comma-separated subset of the field names (all
     * when null), {@code format} {@code ndjson} or {@code csv}, else chosen by {@code accept}.
     */
    static ResultExport of(String fieldList, String format, String accept) {
        List<FieldError> errors = new ArrayList<>();
        List<Field> chosen = new ArrayList<>();
        if (fieldList == null) {
            chosen.addAll(FIELDS.values());
        } else {
            for (String name : fieldList.split(",")) {
                Field field = FIELDS.get(name.strip());
                if (field == null) {
                    errors.add(FieldError.atParameter("fields", "unknown field '" + name.strip() + "'; fields: "
                            + String.join(", ", FIELDS.keySet())));
                } else if (!chosen.contains(field)) {
                    chosen.add(field);
                }
            }
        }
        Format chosenFormat = Format.NDJSON;
        if (format != null) {
            switch (format) {
                case "ndjson" -> chosenFormat = Format.NDJSON;
                case "csv" -> chosenFormat = Format.CSV;
                default -> errors.add(FieldError.atParameter("format", "must be ndjson or csv"));
            }
        } else if (accept != null && accept.contains("text/csv")) {
            chosenFormat = Format.CSV;
        }
        if (!errors.isEmpty()) {
            throw ApiProblem.invalid(errors, errors.size());
        }
        return new ResultExport(List.copyOf(chosen), chosenFormat);
    }

    String mediaType() {
        return format.mediaType + "; charset=utf-8";
    }

    Format format() {
        return format;
    }

    /** Writes the export's rows to {@code out} as {@code rows} hands them over. */
    final class Writing implements AutoCloseable {

        private final OutputStream out;
        private final JsonGenerator json;
        private final Writer csv;

        Writing(OutputStream out, JsonMapper mapper) {
            this.out = out;
            if (format == Format.NDJSON) {
                this.json = mapper.createGenerator(out);
                this.csv = null;
            } else {
                this.json = null;
                this.csv = new java.io.BufferedWriter(new java.io.OutputStreamWriter(out, StandardCharsets.UTF_8), 64 * 1024);
                line(fields.stream().map(f -> (Object) f.name()).toList());
            }
        }

        void write(JobRow row) {
            if (json != null) {
                json.writeStartObject();
                for (Field field : fields) {
                    Object value = field.value().apply(row);
                    json.writeName(field.name());
                    if (value == null) {
                        json.writeNull();
                    } else if (field.json()) {
                        json.writeRawValue((String) value);
                    } else if (value instanceof Number number) {
                        json.writeNumber(number.longValue());
                    } else if (value instanceof Boolean bool) {
                        json.writeBoolean(bool);
                    } else {
                        json.writeString(value.toString());
                    }
                }
                json.writeEndObject();
                json.writeRaw('\n');
            } else {
                List<Object> values = new ArrayList<>(fields.size());
                for (Field field : fields) {
                    values.add(field.value().apply(row));
                }
                line(values);
            }
        }

        private void line(List<Object> values) {
            try {
                for (int i = 0; i < values.size(); i++) {
                    if (i > 0) {
                        csv.write(',');
                    }
                    Object value = values.get(i);
                    if (value instanceof String text) {
                        csv.write(csvField(text));
                    } else if (value != null) {
                        csv.write(value.toString());
                    }
                }
                csv.write("\r\n");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public void close() throws IOException {
            if (json != null) {
                json.close();
            } else {
                csv.flush();
            }
            out.flush();
        }
    }

    /**
     * A text field for CSV. RFC 4180: a field with a comma, quote or line break is quoted, its quotes
     * doubled. Text from fetched pages (a title, an error) that a spreadsheet would take for a formula
     * ({@code = + - @}, tab, carriage return first) is prefixed with {@code '} so it stays text.
     */
    static String csvField(String value) {
        if (!value.isEmpty() && "=+-@\t\r".indexOf(value.charAt(0)) >= 0) {
            value = "'" + value;
        }
        boolean quote = false;
        for (int i = 0; i < value.length() && !quote; i++) {
            char c = value.charAt(i);
            quote = c == ',' || c == '"' || c == '\n' || c == '\r';
        }
        return quote ? '"' + value.replace("\"", "\"\"") + '"' : value;
    }
}
