package io.fetchq.url;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class UrlPolicyTest {

    private final UrlPolicy policy = new UrlPolicy(false);

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            HTTPS://Example.COM:443/a/./b/../c?q=1#frag | https://example.com/a/c?q=1
            http://example.com                          | http://example.com/
            http://example.com:8080/x                   | http://example.com:8080/x
            http://bücher.example/                      | http://xn--bcher-kva.example/
            http://example.com/a b                      |
            http://8.8.8.8/                             | http://8.8.8.8/
            http://134744072/                           | http://8.8.8.8/
            http://[2606:4700:4700::1111]/              | http://[2606:4700:4700::1111]/
            """)
    void normalisesAllowedUrls(String input, String expected) {
        UrlCheck check = policy.check(input);
        if (expected == null) {
            assertThat(check.valid()).as(input).isFalse();
        } else {
            assertThat(check.allowed()).as(input + ": " + check.reason()).isTrue();
            assertThat(check.normalized()).isEqualTo(expected);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "http://127.0.0.1/", "http://127.1/", "http://0x7f000001/", "http://2130706433/", "http://017700000001/",
        "http://0x7f.0.0.1/", "http://0177.0.0.1/", "http://0/", "http://0.0.0.0/", "http://[::1]/", "http://[::]/",
        "http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]/", "http://[::127.0.0.1]/", "http://[64:ff9b::7f00:1]/",
        "http://[2002:7f00:1::]/", "http://[fe80::1]/", "http://[fc00::1]/", "http://[fd12:3456::1]/",
        "http://[ff02::1]/", "http://10.0.0.1/", "http://172.16.5.4/", "http://192.168.1.1/", "http://169.254.169.254/",
        "http://100.64.0.1/", "http://224.0.0.1/", "http://255.255.255.255/", "http://240.0.0.1/",
        "http://198.18.0.1/", "http://example.org@127.0.0.1/", "http://localhost/", "http://LOCALHOST./",
        "http://api.localhost/", "http://127.0.0.1./", "https://[::ffff:a00:1]/",
        // IDN tricks: full-width digits and dots, circled letters, all of which IDNA maps to ASCII.
        "http://\uff11\uff12\uff17\uff0e\uff10\uff0e\uff10\uff0e\uff11/", "http://\u24db\u24de\u24d2\u24d0\u24db\u24d7\u24de\u24e2\u24e3/",
        "http://127\u30020\u30020\u30021/", "http://[0:0:0:0:0:ffff:169.254.169.254]/", "http://user:pass@10.0.0.1:8080/"
    })
    void refusesBlockedAddressesInEveryEncoding(String input) {
        UrlCheck check = policy.check(input);
        assertThat(check.valid()).as(input + " parses").isTrue();
        assertThat(check.allowed()).as(input + " is refused").isFalse();
        assertThat(check.reason()).isNotBlank();
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "ftp://example.com/", "file:///etc/passwd", "javascript:alert(1)", "gopher://example.com/", "example.com",
        "//example.com/", "http://", "http://1.2.3.256/", "http://0x100000000/", "http://1.2.3.4.5/",
        "http://example.com:99999/", "", " http://example.com/", "http://exa mple.com/", "http://example.com/\n"
    })
    void refusesWhatIsNotAnHttpUrl(String input) {
        UrlCheck check = policy.check(input);
        assertThat(check.valid()).as(input).isFalse();
        assertThat(check.allowed()).isFalse();
        assertThat(check.reason()).isNotBlank();
    }

    @ParameterizedTest
    @ValueSource(strings = {"ftp://example.com/", "mailto:a@example.com"})
    void namesTheRefusedScheme(String input) {
        assertThat(policy.check(input).reason()).contains("scheme").contains("only http and https");
    }

    @ParameterizedTest
    @ValueSource(strings = {"http://127.0.0.1:8080/", "http://localhost/", "http://[::1]/", "http://10.1.2.3/"})
    void allowsPrivateNetworksWhenConfigured(String input) {
        assertThat(new UrlPolicy(true).check(input).allowed()).isTrue();
    }

    @Test
    void refusesUrlsLongerThanTheLimit() {
        UrlCheck check = policy.check("http://example.com/" + "x".repeat(2100));
        assertThat(check.valid()).isFalse();
        assertThat(check.reason()).contains("2083");
    }

    @ParameterizedTest
    @CsvSource({"127.0.0.1,true", "8.8.8.8,false", "::1,true", "2606:4700::1,false", "169.254.169.254,true",
        "::ffff:192.168.0.1,true", "64:ff9b::808:808,false"})
    void judgesResolvedAddresses(String address, boolean blocked) throws Exception {
        assertThat(policy.blockedAddress(InetAddress.getByName(address)).isPresent()).as(address).isEqualTo(blocked);
    }
}
