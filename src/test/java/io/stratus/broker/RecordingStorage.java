package io.stratus.broker;

import java.util.ArrayList;
import java.util.List;

/**
 * A {@link SessionStorage} that keeps what it is told: the fake store of the unit tests of a session's parts
 * ({@link InflightWindow}, {@link OwedQueue}). Single-threaded, as those parts are.
 */
final class RecordingStorage implements SessionStorage {
    final List<Long> settled = new ArrayList<>();
    final List<List<Owed>> loads = new ArrayList<>();
    final BrokerStats stats = new BrokerStats();
    /** The session is only handed back to the storage, so the parts are tested without one. */
    final OwedLedger ledger = new OwedLedger(null, this, stats);

    @Override
    public void settled(Session session, long seq) {
        settled.add(seq);
    }

    @Override
    public boolean load(Session session, List<Owed> owed) {
        loads.add(owed);
        return true;
    }

    @Override
    public boolean resume(Runnable read) {
        return true;
    }

    /** A message owed since {@code enqueuedAt}, its payload of {@code size} bytes held in the heap. */
    Owed held(long seq, int qos, int size, long enqueuedAt) {
        Owed owed = new Owed(seq, qos, size, enqueuedAt, null, false);
        ledger.hold(owed, new Message("t/" + seq, new byte[size], qos, false));
        return owed;
    }
}
