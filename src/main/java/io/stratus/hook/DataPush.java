package io.stratus.hook;

import io.stratus.device.DeviceRegistry;
import io.stratus.store.Database;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Data push to an application server, per product (OneNET's "HTTP push"; API "Stratus extensions" in
 * docs/decisions.md). Configuring a target first verifies it:
 * {@code GET url?msg=<random>&nonce=<8 chars>&signature=<sig>} with sig = base64(md5(token + nonce + msg)),
 * URL-encoded; the receiver must answer HTTP 200 with the msg value as its body. Then messages go out signed in POSTs:
 * <pre>{"msg":[...] or {...},"nonce":"abcdefgh","msg_signature":"base64(md5(token + nonce + msg))"}</pre>
 * where the signed msg is the exact JSON text of {@code msg} in the body.
 *
 * <p>What OneNET's published receiver samples show beyond the API contract, and where Stratus differs: the nonce is
 * 8 characters (the samples digest exactly 8 bytes of it); {@code msg} is one object per POST in OneNET's single
 * mode and an array in its batch mode ({@code batch} here, default on); OneNET resends until it gets HTTP 200,
 * so receivers must tolerate duplicates (Stratus tries {@code hook.attempts} times). OneNET's verification
 * signature has reached receivers with '+' turned into ' ' (the samples undo it); Stratus URL-encodes it properly.
 * OneNET's receivers re-serialise {@code msg} before checking the signature, which only works when their JSON
 * library keeps the sent key order; Stratus signs exactly the bytes it sends, so checking the raw text is safest.
 * Not offered: OneNET's encrypted mode ({@code enc_msg}, AES) and the newer OneNET Studio push, whose body is
 * {@code {"msg":"<JSON as a string>","nonce","signature","time","id"}}.
 */
public final class DataPush {
    /**
     * The one answer to every failed verification, whatever failed: a denied network, no answer, a closed port, a
     * timeout, another status or body. Telling them apart would make the verification a scanner of whatever the
     * server can reach (closed, open and HTTP ports); the reason goes to the server log only.
     */
    public static final String VERIFICATION_FAILED = "push url verification failed: the url must answer a GET with HTTP 200 "
            + "and the value of its msg parameter as the body";
    private static final int VERIFY_MSG_LENGTH = 16;
    private static final Logger log = LoggerFactory.getLogger(DataPush.class);

    private final PushStore store;
    private final DeviceRegistry registry;
    private final Delivery delivery;
    private final NetworkPolicy networks;
    private final Map<Long, PushTarget> targets = new ConcurrentHashMap<>();
    private volatile LongConsumer announce = productId -> { };

    DataPush(Database db, DeviceRegistry registry, Delivery delivery, NetworkPolicy networks) {
        this.store = new PushStore(db);
        this.registry = registry;
        this.delivery = delivery;
        this.networks = networks;
        store.loadAll().forEach(t -> targets.put(t.productId(), t));
    }

    /**
     * Verifies {@code url} with {@code token} and then stores it as the product's target, replacing any other.
     * Blocks for up to the hook timeout while the receiver answers. A host in {@code hook.deny-networks} is refused
     * before any request (an IP literal or loopback name) or when the verification resolves it. Every failure but a
     * malformed URL is {@link #VERIFICATION_FAILED}, with the reason in the log.
     */
    public PushTarget configure(long productId, String url, String token, boolean enabled, boolean batch)
            throws HookException, InterruptedException {
        URI uri = HookUrl.parse(url);
        try {
            networks.check(uri);
        } catch (HookException e) {
            throw verificationFailed(productId, uri, e.getMessage());
        }
        verify(productId, uri, token);
        long now = System.currentTimeMillis();
        long created = get(productId).map(PushTarget::createTime).orElse(now);
        PushTarget t = new PushTarget(productId, url, token, enabled, batch, created, now);
        synchronized (this) {
            store.put(t);
            targets.put(productId, t);
            announce.accept(productId);
        }
        return t;
    }

    public Optional<PushTarget> get(long productId) {
        PushTarget t = targets.get(productId);
        if (t != null && registry.product(productId).isEmpty()) {
            targets.remove(productId, t); // its row went with the product
            return Optional.empty();
        }
        return Optional.ofNullable(t);
    }

    public synchronized boolean remove(long productId) {
        if (targets.remove(productId) == null) {
            return false;
        }
        store.delete(productId);
        announce.accept(productId);
        return true;
    }

    /** Cluster mode: {@code announce} tells the other nodes of each product whose target is set or removed here. */
    void announceTo(LongConsumer announce) {
        this.announce = announce;
    }

    /** Another node set or removed the target of {@code productId}: its row, or its absence, replaces the copy here. */
    synchronized void refresh(long productId) {
        PushTarget t = store.load(productId);
        if (t == null) {
            targets.remove(productId);
        } else {
            targets.put(productId, t);
        }
    }

    /** Every target read again from the store (announcements may have been lost). */
    synchronized void reload() {
        Map<Long, PushTarget> stored = new HashMap<>();
        store.loadAll().forEach(t -> stored.put(t.productId(), t));
        targets.keySet().retainAll(stored.keySet());
        targets.putAll(stored);
    }

    /** The target messages of this product go to now, if pushing is on. */
    Optional<PushTarget> active(long productId) {
        return get(productId).filter(PushTarget::enabled);
    }

    /** Signs and queues one POST; {@code messages} are JSON texts. */
    void send(PushTarget target, List<String> messages) {
        delivery.post(URI.create(target.url()), () -> {
            String msg = target.batch() ? "[" + String.join(",", messages) + "]" : messages.get(0);
            String nonce = Signatures.nonce();
            String body = "{\"msg\":" + msg + ",\"nonce\":\"" + nonce + "\",\"msg_signature\":\""
                    + Signatures.sign(target.token(), nonce, msg) + "\"}";
            return body.getBytes(StandardCharsets.UTF_8);
        }, DeliveryLog.push(target.productId()));
    }

    private void verify(long productId, URI uri, String token) throws HookException, InterruptedException {
        String msg = Signatures.random(VERIFY_MSG_LENGTH);
        String nonce = Signatures.nonce();
        String signature = Signatures.sign(token, nonce, msg);
        String url = uri.toString();
        URI check = URI.create(url + (uri.getRawQuery() == null ? "?" : "&") + "msg=" + encode(msg) + "&nonce=" + encode(nonce)
                + "&signature=" + encode(signature));
        Delivery.Reply reply;
        try {
            reply = delivery.get(check);
        } catch (NetworkPolicy.Denied e) {
            throw verificationFailed(productId, uri, "refused: " + e.getMessage());
        } catch (IOException e) {
            throw verificationFailed(productId, uri, "no answer: " + e);
        }
        String body = reply.body() == null ? "" : reply.body().trim();
        if (reply.status() != 200 || !body.equals(msg)) {
            throw verificationFailed(productId, uri, "it answered HTTP " + reply.status()
                    + (body.equals(msg) ? "" : " with another body"));
        }
    }

    private static HookException verificationFailed(long productId, URI uri, String reason) {
        // The host only: a URL's path and query may carry the receiver's own secrets.
        log.info("push url verification of product {} to {} failed: {}", productId, uri.getHost(), reason);
        return new HookException(VERIFICATION_FAILED);
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
