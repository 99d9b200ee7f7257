package io.stratus.e2e;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * A raw WebSocket client (the JDK's) with the subprotocol {@code mqtt} that keeps every byte the server sends and the
 * close code; or, {@link #notReading}, one that never reads what the server sends.
 */
final class WebSocketFrames implements WebSocket.Listener {
    final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    final CompletableFuture<Integer> closed = new CompletableFuture<>();
    private final boolean reading;
    WebSocket socket;

    private WebSocketFrames(boolean reading) {
        this.reading = reading;
    }

    static WebSocketFrames open(URI uri) {
        return open(uri, true);
    }

    static WebSocketFrames notReading(URI uri) {
        return open(uri, false);
    }

    private static WebSocketFrames open(URI uri, boolean reading) {
        WebSocketFrames f = new WebSocketFrames(reading);
        f.socket = HttpClient.newHttpClient().newWebSocketBuilder().subprotocols("mqtt").buildAsync(uri, f).join();
        return f;
    }

    synchronized byte[] received() {
        return bytes.toByteArray();
    }

    @Override
    public void onOpen(WebSocket webSocket) {
        if (reading) {
            webSocket.request(1);
        }
    }

    @Override
    public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
        synchronized (this) {
            byte[] b = new byte[data.remaining()];
            data.get(b);
            bytes.writeBytes(b);
        }
        webSocket.request(1);
        return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
        closed.complete(statusCode);
        return null;
    }

    @Override
    public void onError(WebSocket webSocket, Throwable error) {
        closed.completeExceptionally(error);
    }
}
