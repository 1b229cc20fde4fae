package io.fetchq.worker.fetch;

import java.util.zip.Inflater;
import okhttp3.CompressionInterceptor;
import okhttp3.Gzip;
import okio.BufferedSource;
import okio.InflaterSource;
import okio.Okio;
import okio.Source;
import org.brotli.dec.BrotliInputStream;

/**
 * Response decoding for gzip, deflate and brotli. Bodies are counted and capped after decoding,
 * so a small compressed body cannot expand past a job's {@code max_body_bytes} in memory.
 */
final class Decompression {

    private Decompression() {
    }

    static CompressionInterceptor interceptor() {
        return new CompressionInterceptor(Brotli.INSTANCE, Gzip.INSTANCE, Deflate.INSTANCE);
    }

    enum Brotli implements CompressionInterceptor.DecompressionAlgorithm {
        INSTANCE;

        @Override
        public String getEncoding() {
            return "br";
        }

        @Override
        public Source decompress(BufferedSource compressed) {
            try {
                return Okio.source(new BrotliInputStream(compressed.inputStream()));
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }

    enum Deflate implements CompressionInterceptor.DecompressionAlgorithm {
        INSTANCE;

        @Override
        public String getEncoding() {
            return "deflate";
        }

        @Override
        public Source decompress(BufferedSource compressed) {
            return new InflaterSource(compressed, new Inflater());
        }
    }
}
