package io.fetchq.db;

/** Text from remote servers made storable: PostgreSQL text and jsonb refuse NUL. */
final class Text {

    private Text() {
    }

    static String clean(String s) {
        return s == null || s.indexOf('\u0000') < 0 ? s : s.replace("\u0000", "");
    }

    static String cleanJson(String s) {
        return s == null || !s.contains("\\u0000") ? s : s.replace("\\u0000", "");
    }
}
