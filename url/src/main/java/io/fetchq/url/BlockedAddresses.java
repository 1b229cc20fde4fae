package io.fetchq.url;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Optional;

/**
 * The address ranges fetchq never connects to unless private networks are allowed: loopback,
 * private, link-local (cloud metadata lives at 169.254.169.254), CGNAT, multicast, reserved and
 * documentation ranges, and every IPv6 form that embeds an IPv4 address (mapped, compatible,
 * NAT64, 6to4), judged by the address it embeds.
 */
public final class BlockedAddresses {

    /** An address range in CIDR form. */
    public record Range(byte[] network, int prefix, String reason) {

        /** Parses {@code 10.1.2.0/24} or {@code fd00::/8}; a bare address is a range of one. */
        public static Range parse(String cidr) {
            String[] parts = cidr.strip().split("/", 2);
            byte[] network;
            try {
                if (!parts[0].matches("[0-9a-fA-F:.]+")) {
                    throw new IllegalArgumentException("not an IP address: " + cidr);
                }
                network = InetAddress.getByName(parts[0]).getAddress();
            } catch (UnknownHostException e) {
                throw new IllegalArgumentException("not an IP address: " + cidr, e);
            }
            int prefix = parts.length == 1 ? network.length * 8 : Integer.parseInt(parts[1]);
            if (prefix < 0 || prefix > network.length * 8) {
                throw new IllegalArgumentException("bad prefix length in " + cidr);
            }
            return new Range(network, prefix, cidr);
        }

        public boolean contains(byte[] address) {
            if (address.length != network.length) {
                return false;
            }
            int full = prefix / 8;
            for (int i = 0; i < full; i++) {
                if (address[i] != network[i]) {
                    return false;
                }
            }
            int rest = prefix % 8;
            if (rest == 0) {
                return true;
            }
            int mask = (0xff << (8 - rest)) & 0xff;
            return (address[full] & mask) == (network[full] & mask);
        }
    }

    private static final List<Range> V4 = List.of(
            range("0.0.0.0", 8, "'this network' address (0.0.0.0/8)"),
            range("10.0.0.0", 8, "private address (10.0.0.0/8)"),
            range("100.64.0.0", 10, "carrier-grade NAT address (100.64.0.0/10)"),
            range("127.0.0.0", 8, "loopback address (127.0.0.0/8)"),
            range("169.254.0.0", 16, "link-local address (169.254.0.0/16, includes cloud metadata)"),
            range("172.16.0.0", 12, "private address (172.16.0.0/12)"),
            range("192.0.0.0", 24, "IETF protocol assignment (192.0.0.0/24)"),
            range("192.0.2.0", 24, "documentation address (192.0.2.0/24)"),
            range("192.88.99.0", 24, "6to4 relay anycast address (192.88.99.0/24)"),
            range("192.168.0.0", 16, "private address (192.168.0.0/16)"),
            range("198.18.0.0", 15, "benchmarking address (198.18.0.0/15)"),
            range("198.51.100.0", 24, "documentation address (198.51.100.0/24)"),
            range("203.0.113.0", 24, "documentation address (203.0.113.0/24)"),
            range("224.0.0.0", 4, "multicast address (224.0.0.0/4)"),
            range("240.0.0.0", 4, "reserved address (240.0.0.0/4, includes broadcast)"));

    private static final List<Range> V6 = List.of(
            range("::", 128, "unspecified address (::)"),
            range("::1", 128, "loopback address (::1)"),
            range("64:ff9b:1::", 48, "local-use NAT64 address (64:ff9b:1::/48)"),
            range("100::", 64, "discard-only address (100::/64)"),
            range("2001::", 23, "IETF protocol assignment (2001::/23, includes Teredo)"),
            range("2001:db8::", 32, "documentation address (2001:db8::/32)"),
            range("fc00::", 7, "unique local address (fc00::/7)"),
            range("fe80::", 10, "link-local address (fe80::/10)"),
            range("fec0::", 10, "site-local address (fec0::/10)"),
            range("ff00::", 8, "multicast address (ff00::/8)"));

    private BlockedAddresses() {
    }

    /** Why connecting to this address is refused, or empty when it is a public address. */
    public static Optional<String> reason(InetAddress address) {
        byte[] bytes = address.getAddress();
        if (address instanceof Inet4Address) {
            return reasonV4(bytes);
        }
        if (address instanceof Inet6Address) {
            return reasonV6(bytes);
        }
        return Optional.of("unknown address family");
    }

    private static Optional<String> reasonV4(byte[] bytes) {
        for (Range range : V4) {
            if (range.contains(bytes)) {
                return Optional.of(range.reason());
            }
        }
        return Optional.empty();
    }

    private static Optional<String> reasonV6(byte[] bytes) {
        // Forms that carry an IPv4 address are judged by it: a private IPv4 address must not be
        // reachable by spelling it in IPv6.
        byte[] embedded = embeddedV4(bytes);
        if (embedded != null) {
            return reasonV4(embedded).map(r -> r + " embedded in IPv6 address");
        }
        for (Range range : V6) {
            if (range.contains(bytes)) {
                return Optional.of(range.reason());
            }
        }
        return Optional.empty();
    }

    /** The IPv4 address inside a mapped, compatible, NAT64 or 6to4 IPv6 address, else null. */
    private static byte[] embeddedV4(byte[] b) {
        boolean firstTenZero = true;
        for (int i = 0; i < 10; i++) {
            firstTenZero &= b[i] == 0;
        }
        if (firstTenZero && (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff) {
            return slice(b, 12); // ::ffff:a.b.c.d, IPv4-mapped
        }
        if (firstTenZero && b[10] == 0 && b[11] == 0) {
            // ::a.b.c.d, IPv4-compatible (deprecated); :: and ::1 themselves are handled as IPv6.
            boolean unspecifiedOrLoopback = b[12] == 0 && b[13] == 0 && b[14] == 0 && (b[15] == 0 || b[15] == 1);
            return unspecifiedOrLoopback ? null : slice(b, 12);
        }
        if (b[0] == 0 && b[1] == 0x64 && (b[2] & 0xff) == 0xff && (b[3] & 0xff) == 0x9b) {
            boolean wellKnownPrefix = true;
            for (int i = 4; i < 12; i++) {
                wellKnownPrefix &= b[i] == 0;
            }
            if (wellKnownPrefix) {
                return slice(b, 12); // 64:ff9b::a.b.c.d, NAT64 well-known prefix
            }
        }
        if (b[0] == 0x20 && b[1] == 0x02) {
            return new byte[] {b[2], b[3], b[4], b[5]}; // 2002:aabb:ccdd::/48, 6to4
        }
        return null;
    }

    private static byte[] slice(byte[] b, int from) {
        return new byte[] {b[from], b[from + 1], b[from + 2], b[from + 3]};
    }

    private static Range range(String literal, int prefix, String reason) {
        try {
            // Literals only: InetAddress.getByName does no lookup for them.
            return new Range(InetAddress.getByName(literal).getAddress(), prefix, reason);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }
}
