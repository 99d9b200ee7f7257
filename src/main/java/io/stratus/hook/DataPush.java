package io.stratus.hook;

import io.stratus.device.DeviceRegistry;
import io.stratus.store.Database;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Data push to an application server, per product (OneNET's "HTTP push"; rest-api.md, Stratus extensions).
 * Configuring a target first verifies it: {@code GET url?msg=<random>&nonce=<8 chars>&signature=<sig>} with
 * sig = base64(md5(token + nonce + msg)), URL-encoded; the receiver must answer HTTP 200 with the msg value as
 * its body. Then messages go out signed in POSTs:
 * <pre>{"msg":[...] or {...},"nonce":"abcdefgh","msg_signature":"base64(md5(token + nonce + msg))"}</pre>
 * where the signed msg is the exact JSON text of {@code msg} in the body.
 *
 * <p>Differences from OneNET that receivers might notice, found by reading OneNET's published receiver samples:
 * OneNET's signature in the verification GET has reached receivers with '+' turned into ' ' (the samples undo it),
 * Stratus URL-encodes it properly; OneNET's receivers re-serialise {@code msg} before checking its signature,
 * which only works when their JSON library keeps the sent key order, so Stratus signs exactly the bytes it sends
 * and a receiver should check the raw text; OneNET's encrypted mode ({@code enc_msg}, AES) is not offered.
 */
public final class DataPush {
    private static final int VERIFY_MSG_LENGTH = 16;

    private final PushStore store;
    private final DeviceRegistry registry;
    private final Delivery delivery;
    private final Map<Long, PushTarget> targets = new ConcurrentHashMap<>();

    DataPush(Database db, DeviceRegistry registry, Delivery delivery) {
        this.store = new PushStore(db);
        this.registry = registry;
        this.delivery = delivery;
        store.loadAll().forEach(t -> targets.put(t.productId(), t));
    }

    /**
     * Verifies {@code url} with {@code token} and then stores it as the product's target, replacing any other.
     * Blocks for up to the hook timeout while the receiver answers.
     */
    public PushTarget configure(long productId, String url, String token, boolean enabled, boolean batch)
            throws HookException, InterruptedException {
        URI uri = HookUrl.parse(url);
        verify(uri, token);
        long now = System.currentTimeMillis();
        long created = get(productId).map(PushTarget::createTime).orElse(now);
        PushTarget t = new PushTarget(productId, url, token, enabled, batch, created, now);
        synchronized (this) {
            store.put(t);
            targets.put(productId, t);
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
        return true;
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
        }, "push of product " + target.productId());
    }

    private void verify(URI uri, String token) throws HookException, InterruptedException {
        String msg = Signatures.random(VERIFY_MSG_LENGTH);
        String nonce = Signatures.nonce();
        String signature = Signatures.sign(token, nonce, msg);
        String url = uri.toString();
        URI check = URI.create(url + (uri.getRawQuery() == null ? "?" : "&") + "msg=" + encode(msg) + "&nonce=" + encode(nonce)
                + "&signature=" + encode(signature));
        HttpResponse<String> reply;
        try {
            reply = delivery.get(check);
        } catch (IOException e) {
            throw new HookException("push url verification failed: " + uri.getHost() + " did not answer (" + e + ")");
        }
        String body = reply.body() == null ? "" : reply.body().trim();
        if (reply.statusCode() != 200 || !body.equals(msg)) {
            throw new HookException("push url verification failed: the receiver must answer HTTP 200 with the msg parameter, "
                    + "it answered HTTP " + reply.statusCode() + (body.equals(msg) ? "" : " with another body"));
        }
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
