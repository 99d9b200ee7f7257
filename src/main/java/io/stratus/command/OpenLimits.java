package io.stratus.command;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The count of open commands, bounded twice ({@code commands.max-open-per-product}, {@code commands.max-open}): a
 * product at its bound is refused with errno 13 while other products keep sending, and no product can take the
 * whole server's allowance.
 */
final class OpenLimits {
    /** Open commands per product, counted against {@link #maxOpenPerProduct}; a product with none has no entry. */
    private final Map<Long, Integer> openByProduct = new ConcurrentHashMap<>();
    /** Open commands in all, counted against {@link #maxOpen} (reserved before the insert, so never over it). */
    private final AtomicInteger openTotal = new AtomicInteger();
    private final LongAdder refused = new LongAdder();
    private final int maxOpen;
    private final int maxOpenPerProduct;

    /**
     * @param maxOpen           open commands at most ({@code commands.max-open})
     * @param maxOpenPerProduct open commands of one product at most ({@code commands.max-open-per-product})
     */
    OpenLimits(int maxOpen, int maxOpenPerProduct) {
        this.maxOpen = maxOpen;
        this.maxOpenPerProduct = maxOpenPerProduct;
    }

    /** Counts a new command against both bounds, or refuses it with errno 13 (counted in {@link #refusedCount}). */
    void reserve(long productId) {
        boolean[] reserved = {false};
        openByProduct.compute(productId, (id, n) -> {
            int count = n == null ? 0 : n;
            if (count >= maxOpenPerProduct) {
                return n;
            }
            reserved[0] = true;
            return count + 1;
        });
        if (!reserved[0]) {
            refused.increment();
            throw new CommandException(CommandException.Reason.SYSTEM_LIMIT, "too many open commands in this product (at most "
                    + maxOpenPerProduct + ", commands.max-open-per-product)");
        }
        if (openTotal.incrementAndGet() > maxOpen) {
            release(productId);
            refused.increment();
            throw new CommandException(CommandException.Reason.SYSTEM_LIMIT, "too many open commands on this server (at most "
                    + maxOpen + ", commands.max-open)");
        }
    }

    /**
     * Cluster mode: refuses a new command while the store holds the bound's worth of open commands, of its product or in
     * all. Nodes count what is stored, so nodes accepting at the same moment can pass a bound by what is in flight.
     */
    void checkStored(long total, long inProduct) {
        if (inProduct >= maxOpenPerProduct) {
            refused.increment();
            throw new CommandException(CommandException.Reason.SYSTEM_LIMIT, "too many open commands in this product (at most "
                    + maxOpenPerProduct + ", commands.max-open-per-product)");
        }
        if (total >= maxOpen) {
            refused.increment();
            throw new CommandException(CommandException.Reason.SYSTEM_LIMIT, "too many open commands (at most "
                    + maxOpen + ", commands.max-open)");
        }
    }

    /** Counts a command of an earlier run, which was accepted under the bounds of its day. */
    void count(long productId) {
        openByProduct.merge(productId, 1, Integer::sum);
        openTotal.incrementAndGet();
    }

    void release(long productId) {
        openByProduct.computeIfPresent(productId, (id, n) -> n <= 1 ? null : n - 1);
        openTotal.decrementAndGet();
    }

    /** Commands neither answered, expired nor failed. */
    int openCount() {
        return openTotal.get();
    }

    /** Commands refused so far because a bound of open commands was reached. */
    long refusedCount() {
        return refused.sum();
    }
}
