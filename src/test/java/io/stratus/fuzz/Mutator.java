package io.stratus.fuzz;

import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * A seeded mutation fuzzer's mutations, after the classic byte-level set (AFL, libFuzzer): bit flips, interesting
 * values, random bytes, inserted, deleted and duplicated ranges, truncation, splicing with another seed, and for MQTT
 * frames the fixed header's type nibble and remaining length. The same seed gives the same inputs.
 */
public final class Mutator {
    private static final byte[] INTERESTING = {0, 1, 0x7F, (byte) 0x80, (byte) 0xFF, (byte) 0xFE, 0x40, 0x20, '{', '}', '"', ',', ':', '0', '-', 'e'};

    /** How many inputs a fuzz test runs: {@code -Dfuzz.inputs=N} for the long form, else {@code shortForm}. */
    public static int inputs(int shortForm) {
        return Integer.getInteger("fuzz.inputs", shortForm);
    }

    /** The seed: {@code -Dfuzz.seed=N} to replay a run, else a fresh one (printed by the tests). */
    public static long seed() {
        return Long.getLong("fuzz.seed", System.nanoTime());
    }

    private final Random random;
    private final List<byte[]> corpus;

    public Mutator(long seed, List<byte[]> corpus) {
        this.random = new Random(seed);
        this.corpus = corpus;
    }

    public Random random() {
        return random;
    }

    /** A corpus entry with 1 to 4 stacked mutations. */
    public byte[] next() {
        byte[] input = corpus.get(random.nextInt(corpus.size()));
        int rounds = 1 + random.nextInt(4);
        for (int i = 0; i < rounds; i++) {
            input = mutate(input);
        }
        return input;
    }

    /** One mutation of {@code in} (a copy; {@code in} is not changed). */
    public byte[] mutate(byte[] in) {
        byte[] b = in.clone();
        int n = b.length;
        switch (random.nextInt(n == 0 ? 1 : 11)) {
            case 0 -> {
                return insert(b, n == 0 ? 0 : random.nextInt(n + 1), randomBytes(1 + random.nextInt(8)));
            }
            case 1 -> b[random.nextInt(n)] ^= (byte) (1 << random.nextInt(8));
            case 2 -> b[random.nextInt(n)] = INTERESTING[random.nextInt(INTERESTING.length)];
            case 3 -> b[random.nextInt(n)] = (byte) random.nextInt(256);
            case 4 -> {
                int from = random.nextInt(n);
                int len = 1 + random.nextInt(Math.min(16, n - from));
                byte[] out = new byte[n - len];
                System.arraycopy(b, 0, out, 0, from);
                System.arraycopy(b, from + len, out, from, n - from - len);
                return out;
            }
            case 5 -> {
                int from = random.nextInt(n);
                int len = 1 + random.nextInt(Math.min(32, n - from));
                return insert(b, random.nextInt(n + 1), Arrays.copyOfRange(b, from, from + len));
            }
            case 6 -> {
                return Arrays.copyOf(b, random.nextInt(n));
            }
            case 7 -> {
                byte[] other = corpus.get(random.nextInt(corpus.size()));
                int cut = random.nextInt(n + 1);
                int otherCut = other.length == 0 ? 0 : random.nextInt(other.length);
                byte[] out = Arrays.copyOf(b, cut + other.length - otherCut);
                System.arraycopy(other, otherCut, out, cut, other.length - otherCut);
                return out;
            }
            case 8 -> b[0] = (byte) ((random.nextInt(16) << 4) | (b[0] & 0x0F)); // MQTT packet type
            case 9 -> b[0] = (byte) ((b[0] & 0xF0) | random.nextInt(16)); // MQTT fixed-header flags
            default -> {
                if (n > 1) { // an MQTT remaining-length byte: off by a little, or with the continuation bit
                    int i = 1 + random.nextInt(Math.min(4, n - 1));
                    b[i] = (byte) (random.nextBoolean() ? b[i] + random.nextInt(5) - 2 : b[i] | 0x80);
                }
            }
        }
        return b;
    }

    private byte[] randomBytes(int n) {
        byte[] r = new byte[n];
        random.nextBytes(r);
        return r;
    }

    private static byte[] insert(byte[] b, int at, byte[] extra) {
        byte[] out = new byte[b.length + extra.length];
        System.arraycopy(b, 0, out, 0, at);
        System.arraycopy(extra, 0, out, at, extra.length);
        System.arraycopy(b, at, out, at + extra.length, b.length - at);
        return out;
    }
}
