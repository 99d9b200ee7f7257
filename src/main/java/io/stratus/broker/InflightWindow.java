package io.stratus.broker;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The outgoing QoS 1/2 messages of one session sent and not yet acknowledged, by packet id in the order they were
 * sent: at most {@code mqtt.max-inflight} of them and {@code mqtt.max-inflight-bytes} of payload. Counts PUBACK,
 * PUBREC and PUBCOMP against them and resends them on a new connection. Not thread-safe: only its session calls it,
 * under the session's lock.
 */
final class InflightWindow {
    private final Session.Rules rules;
    private final boolean persistent;
    private final OwedLedger ledger;
    // Made on the first message sent: most sessions never have one in flight, and idle connections are counted in
    // thousands (memory per connection).
    private Map<Integer, Owed> byPacketId;
    private long bytes; // of the messages not yet released (QoS 2 after PUBREC no longer counts)
    private int lastPacketId;

    InflightWindow(Session.Rules rules, boolean persistent, OwedLedger ledger) {
        this.rules = rules;
        this.persistent = persistent;
        this.ledger = ledger;
    }

    /** Room for one more: under mqtt.max-inflight messages and mqtt.max-inflight-bytes (one always fits). */
    boolean open() {
        int n = size();
        return n < rules.maxInflight() && (n == 0 || bytes < rules.maxInflightBytes());
    }

    int size() {
        return byPacketId == null ? 0 : byPacketId.size();
    }

    /** Sends {@code owed} under the next free packet id; its payload must be in the heap. */
    void send(Owed owed, Outbox outbox) {
        if (byPacketId == null) {
            byPacketId = new LinkedHashMap<>();
        }
        int id = nextPacketId();
        byPacketId.put(id, owed);
        bytes += owed.size;
        outbox.publish(owed.message, id, false);
        afterSend(owed);
    }

    /** A PUBACK: the QoS 1 message it acknowledges, no longer in flight; null when none has that id. */
    Owed puback(int packetId) {
        Owed f = get(packetId);
        if (f == null || f.qos != 1) {
            return null;
        }
        byPacketId.remove(packetId);
        bytes -= f.size;
        return f;
    }

    /**
     * A PUBREC: the QoS 2 message it acknowledges, now released (it keeps its packet id until PUBCOMP, without its
     * bytes); null when none has that id or it was released already.
     */
    Owed pubrec(int packetId) {
        Owed f = get(packetId);
        if (f == null || f.qos != 2 || f.released) {
            return null;
        }
        f.released = true;
        bytes -= f.size;
        return f;
    }

    /** A PUBCOMP: true when it ends a released message's exchange, whose packet id is free again. */
    boolean pubcomp(int packetId) {
        Owed f = get(packetId);
        if (f == null || !f.released) {
            return false;
        }
        byPacketId.remove(packetId);
        return true;
    }

    /** The messages to resend whose payloads are only in the store; null when every one is in the heap. */
    List<Owed> stubsToResend() {
        List<Owed> toLoad = null;
        for (Owed f : messages()) {
            if (!f.released && f.message == null && !f.missing) {
                if (toLoad == null) {
                    toLoad = new ArrayList<>();
                }
                toLoad.add(f);
            }
        }
        return toLoad;
    }

    /**
     * Resends every message in its order [MQTT-4.6.0-1] with DUP set and its packet id [MQTT-4.4.0-1], a PUBREL for a
     * released one; a message whose row was not found is dropped. Payloads must be in the heap first
     * ({@link #stubsToResend}).
     */
    void resend(Outbox outbox) {
        if (byPacketId == null) {
            return;
        }
        for (Iterator<Map.Entry<Integer, Owed>> it = byPacketId.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Integer, Owed> e = it.next();
            Owed f = e.getValue();
            if (f.released) {
                outbox.pubrel(e.getKey());
            } else if (f.missing) {
                it.remove();
                bytes -= f.size;
                ledger.finish(f);
                ledger.countDrop();
            } else {
                outbox.publish(f.message, e.getKey(), true);
                afterSend(f);
            }
        }
    }

    /** Offline: the payloads the store holds leave the heap. */
    void releaseStored() {
        ledger.releaseStored(messages());
    }

    /** Forgets every message, for a session being discarded (its stored rows go with the session's). */
    void discard() {
        for (Owed f : messages()) {
            f.done = true;
            ledger.release(f);
        }
        if (byPacketId != null) {
            byPacketId.clear();
        }
        bytes = 0;
    }

    /** A sent message keeps its payload only if it may have to be resent and cannot be read back. */
    private void afterSend(Owed owed) {
        owed.sent = true;
        if (owed.stored || !persistent) {
            ledger.release(owed);
        }
    }

    private Owed get(int packetId) {
        return byPacketId == null ? null : byPacketId.get(packetId);
    }

    private Collection<Owed> messages() {
        return byPacketId == null ? List.of() : byPacketId.values();
    }

    private int nextPacketId() {
        // Ids of messages still in flight are skipped; the window is far smaller than 65535.
        do {
            lastPacketId = lastPacketId % 65535 + 1;
        } while (byPacketId.containsKey(lastPacketId));
        return lastPacketId;
    }
}
