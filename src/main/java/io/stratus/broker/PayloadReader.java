package io.stratus.broker;

import io.stratus.monitor.Worker;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One thread that reads payloads the heap does not hold (queued messages of persistent sessions, large retained
 * messages) from the store when they are due, so that no event loop waits on the disk. Its queue is bounded: a
 * session has at most one read of queued messages at a time, and a read that does not fit is refused (false).
 */
final class PayloadReader implements AutoCloseable {
    /** Told of a stored message whose topic is no valid topic name: it is not handed on. */
    interface InvalidTopic {
        void dropped(long productId, String topic, String problem);
    }

    private static final Logger log = LoggerFactory.getLogger(PayloadReader.class);
    private static final Runnable STOP = () -> { };

    private final BrokerStore store;
    private final InvalidTopic invalidTopic;
    private final BlockingQueue<Runnable> queue;
    /** A Worker: a read that throws anything, an Error included, is logged and the thread goes on. */
    private final Worker worker;

    PayloadReader(BrokerStore store, int capacity, InvalidTopic invalidTopic) {
        this.store = store;
        this.invalidTopic = invalidTopic;
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.worker = Worker.start("broker-reader", this::readNext);
    }

    /**
     * Sends {@code s} the retained messages of {@code topics} as the store holds them when read (a newer one replaced
     * it, or none is left), one at a time, at most at {@code grantedQos}; false when the read cannot be queued. At QoS
     * 1/2 it goes at the session's pace: while the session's queue holds more than a window, the rest waits with the
     * session ({@link Session#parkWhileFull}), which hands it back when it has room.
     */
    boolean readRetained(Session s, List<String> topics, int grantedQos) {
        return submit(new RetainedFeed(s, topics, grantedQos));
    }

    private final class RetainedFeed implements Runnable {
        private final Session session;
        private final List<String> topics;
        private final int grantedQos;
        private int next;

        RetainedFeed(Session session, List<String> topics, int grantedQos) {
            this.session = session;
            this.topics = topics;
            this.grantedQos = grantedQos;
        }

        @Override
        public void run() {
            while (next < topics.size()) {
                if (!session.isOnline()) {
                    return; // the session ended or went offline: retained messages are sent on SUBSCRIBE only
                }
                if (grantedQos > 0 && session.parkWhileFull(this)) {
                    return;
                }
                Message m = store.loadRetained(session.productId, topics.get(next++));
                if (m != null) {
                    session.deliver(m.forDelivery(Math.min(m.qos(), grantedQos), true), 0);
                }
            }
        }
    }

    /** Queues a read (or the rest of one handed back by a session); false when the queue is full. */
    boolean submit(Runnable read) {
        return queue.offer(read);
    }

    /** Reads the payloads of a session's stored messages and hands them to {@link Session#loaded}; false when full. */
    boolean readQueued(Session s, List<Owed> owed) {
        return queue.offer(() -> {
            Map<Long, Message> rows;
            try {
                List<Long> seqs = new ArrayList<>(owed.size());
                for (Owed o : owed) {
                    seqs.add(o.seq);
                }
                rows = store.loadMessages(s.key, seqs);
            } catch (RuntimeException e) {
                s.loadFailed(e.getMessage());
                return;
            }
            rows.values().removeIf(m -> {
                String problem = Topics.checkTopicName(m.topic());
                if (problem != null) {
                    invalidTopic.dropped(s.productId, m.topic(), problem); // written before topics were checked
                }
                return problem != null;
            });
            s.loaded(owed, rows);
        });
    }

    int queueDepth() {
        return queue.size();
    }

    /** For readiness: the thread that reads payloads. */
    Worker worker() {
        return worker;
    }

    private boolean readNext() throws InterruptedException {
        Runnable read = queue.take();
        if (read == STOP) {
            return false;
        }
        read.run();
        return true;
    }

    @Override
    public void close() {
        queue.clear();
        if (!queue.offer(STOP)) {
            worker.stop();
        }
        worker.join(5_000);
    }
}
