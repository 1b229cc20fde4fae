package io.fetchq.url;

import static org.assertj.core.api.Assertions.assertThat;

import okhttp3.HttpUrl;
import org.junit.jupiter.api.Test;

/** A crawl's de-duplication key (RFC 3986, section 6, query sorted) and its scopes. */
class CrawlUrlsTest {

    private static final UrlPolicy POLICY = new UrlPolicy(false);

    private static String key(String url) {
        return CrawlUrls.key(POLICY.check(url).url());
    }

    @Test
    void spellingsOfOneUrlShareTheirKey() {
        String key = key("http://example.com/a/b?x=1&y=2");
        assertThat(key("HTTP://EXAMPLE.com:80/a/./c/../b?y=2&x=1#frag")).isEqualTo(key);
        assertThat(key("http://example.com/%61/b?x=%31&y=2")).as("unreserved characters decoded").isEqualTo(key);
        assertThat(key("http://example.com/a%2fb")).isEqualTo(key("http://example.com/a%2Fb"))
                .as("reserved ones kept, hex upper-cased").isEqualTo("http://example.com/a%2Fb");
        assertThat(key("https://example.com/a/b?x=1&y=2")).as("another scheme is another URL").isNotEqualTo(key);
        assertThat(key("http://example.com:8080/a/b?x=1&y=2")).as("another port too").isNotEqualTo(key);
        assertThat(key("http://example.com/a/b")).as("no query is not an empty one").isNotEqualTo(key);
        assertThat(CrawlUrls.keyHash(POLICY.check("http://example.com/a/b?y=2&x=1").url()))
                .isEqualTo(CrawlUrls.hash(key));
    }

    @Test
    void sitesAreRegistrableDomainsByThePublicSuffixListWithItsPrivatePart() {
        assertThat(CrawlUrls.site("www.example.co.uk")).isEqualTo("example.co.uk");
        assertThat(CrawlUrls.site("docs.example.com")).isEqualTo("example.com");
        assertThat(CrawlUrls.site("a.github.io")).isEqualTo("a.github.io");
        assertThat(CrawlUrls.site("b.github.io")).isNotEqualTo(CrawlUrls.site("a.github.io"));
        assertThat(CrawlUrls.site("x.a.github.io")).isEqualTo("a.github.io");
        assertThat(CrawlUrls.site("127.0.0.1")).isEqualTo("127.0.0.1");
    }

    @Test
    void scopesCompareOriginsHostsOrSites() {
        HttpUrl seed = HttpUrl.get("https://docs.example.com/start");
        HttpUrl plain = HttpUrl.get("http://docs.example.com/other");
        HttpUrl blog = HttpUrl.get("https://blog.example.com/");
        assertThat(CrawlUrls.scopeKey(CrawlUrls.Scope.SAME_ORIGIN, seed)).isEqualTo("https://docs.example.com:443")
                .isNotEqualTo(CrawlUrls.scopeKey(CrawlUrls.Scope.SAME_ORIGIN, plain));
        assertThat(CrawlUrls.scopeKey(CrawlUrls.Scope.SAME_HOST, seed))
                .isEqualTo(CrawlUrls.scopeKey(CrawlUrls.Scope.SAME_HOST, plain))
                .isNotEqualTo(CrawlUrls.scopeKey(CrawlUrls.Scope.SAME_HOST, blog));
        assertThat(CrawlUrls.scopeKey(CrawlUrls.Scope.SAME_SITE, seed))
                .isEqualTo(CrawlUrls.scopeKey(CrawlUrls.Scope.SAME_SITE, blog));
    }
}
