package io.stratus.broker;

import java.util.List;

/** Where a {@link Session}'s owed messages are kept: told when one is no longer owed, asked for payloads only there. */
interface SessionStorage {
    /** A stored message is no longer owed (acknowledged, dropped or expired): its row can go. */
    void settled(Session session, long seq);

    /**
     * Reads the payloads of {@code owed} (all stored) and hands them to {@link Session#loaded}, on another thread; false
     * when that cannot be queued now.
     */
    boolean load(Session session, List<Owed> owed);

    /** Hands back a read that waited for room in the session's queue ({@link Session#parkWhileFull}); false when full. */
    boolean resume(Runnable read);

    /** Queued messages kept in {@code store}, their payloads read by {@code reader}. */
    static SessionStorage of(BrokerStore store, PayloadReader reader) {
        return new SessionStorage() {
            @Override
            public void settled(Session session, long seq) {
                store.deleteMessage(session.key, seq);
            }

            @Override
            public boolean load(Session session, List<Owed> owed) {
                return reader.readQueued(session, owed);
            }

            @Override
            public boolean resume(Runnable read) {
                return reader.submit(read);
            }
        };
    }
}
