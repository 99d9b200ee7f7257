package io.stratus.hook;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;

/**
 * An application server for hook tests: a JDK HTTP server on 127.0.0.1 and a free port that records every request
 * and answers as told (200 "ok" by default). {@link #hang()} makes it accept requests and never answer, until closed.
 */
final class Receiver implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();

    /** One request as received. */
    record Request(String method, URI uri, String body) {
        JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /** The decoded query parameters. */
        Map<String, String> query() {
            Map<String, String> out = new LinkedHashMap<>();
            String raw = uri.getRawQuery();
            if (raw != null) {
                for (String pair : raw.split("&")) {
                    int eq = pair.indexOf('=');
                    out.put(URLDecoder.decode(pair.substring(0, eq), UTF_8), URLDecoder.decode(pair.substring(eq + 1), UTF_8));
                }
            }
            return out;
        }
    }

    /** A reply: status, body and extra headers. */
    record Reply(int status, String body, Map<String, String> headers) {
        Reply(int status, String body) {
            this(status, body, Map.of());
        }

        static Reply ok(String body) {
            return new Reply(200, body);
        }

        static Reply redirect(String location) {
            return new Reply(302, "", Map.of("Location", location));
        }
    }

    private final HttpServer server;
    private final ExecutorService executor = Executors.newCachedThreadPool();
    private final List<Request> requests = new CopyOnWriteArrayList<>();
    private final CountDownLatch released = new CountDownLatch(1);
    private volatile Function<Request, Reply> answer = r -> Reply.ok("ok");
    private volatile boolean hanging;

    private Receiver() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", this::handle);
        server.setExecutor(executor);
        server.start();
    }

    static Receiver start() {
        try {
            return new Receiver();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The URL of {@code path} on this receiver. */
    String url(String path) {
        return "http://127.0.0.1:" + port() + path;
    }

    int port() {
        return server.getAddress().getPort();
    }

    void answer(Function<Request, Reply> answer) {
        this.answer = answer;
    }

    /** From now on requests are read and never answered (until {@link #close}). */
    void hang() {
        hanging = true;
    }

    List<Request> requests() {
        return List.copyOf(requests);
    }

    /** The POSTs received on {@code path}, as JSON. */
    List<JsonNode> posts(String path) {
        return requests.stream().filter(r -> r.method.equals("POST") && r.uri.getPath().equals(path)).map(Request::json).toList();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String body = new String(exchange.getRequestBody().readAllBytes(), UTF_8);
            Request request = new Request(exchange.getRequestMethod(), exchange.getRequestURI(), body);
            requests.add(request);
            if (hanging) {
                released.await();
                return;
            }
            Reply reply = answer.apply(request);
            byte[] bytes = reply.body.getBytes(UTF_8);
            reply.headers.forEach((name, value) -> exchange.getResponseHeaders().add(name, value));
            exchange.sendResponseHeaders(reply.status, bytes.length == 0 ? -1 : bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        released.countDown();
        server.stop(0);
        executor.shutdownNow();
    }
}
