package io.stratus.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

/** The few calls of Stratus's OneNET HTTP API the load tool needs: fixtures and history queries. */
final class StratusHttp {
    /** A product created for the benchmark. */
    record Product(String id, String masterKey) {}

    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final String base;

    StratusHttp(int port) {
        this.base = "http://127.0.0.1:" + port;
    }

    Product createProduct(String adminPassword, String title) {
        JsonNode login = data(send("POST", "/auth/login", Map.of("username", "admin", "password", adminPassword), Map.of()));
        String token = login.path("token").asText();
        JsonNode p = data(send("POST", "/products", Map.of("title", title, "protocol", "MQTT"),
                Map.of("Authorization", "Bearer " + token)));
        return new Product(p.path("product_id").asText(), p.path("master_key").asText());
    }

    /** Creates a device with {@code authInfo} as its serial number; returns its id. */
    String createDevice(Product product, String title, String authInfo) {
        JsonNode d = data(send("POST", "/devices", Map.of("title", title, "auth_info", authInfo),
                Map.of("api-key", product.masterKey())));
        return d.path("device_id").asText();
    }

    /** Creates a device with {@code serial} as its auth_info; returns its OneNET login: device id, product id, serial. */
    LoadConnection.Login deviceLogin(Product product, String title, String serial) {
        return new LoadConnection.Login(createDevice(product, title, serial), product.id(), serial);
    }

    /** {@code POST /devices/{id}/datapoints?type=1}: uploads a `$dp` type-1 JSON body. */
    void upload(Product product, String deviceId, String type1Json) {
        data(send("POST", "/devices/" + deviceId + "/datapoints?type=1", type1Json.getBytes(StandardCharsets.UTF_8),
                Map.of("api-key", product.masterKey())));
    }

    /** {@code GET /devices/{id}/datapoints} with the given query parameters; returns the raw body. */
    byte[] history(Product product, String deviceId, Map<String, String> params) {
        StringBuilder q = new StringBuilder();
        params.forEach((k, v) -> q.append(q.length() == 0 ? "?" : "&").append(k).append('=')
                .append(URLEncoder.encode(v, StandardCharsets.UTF_8)));
        HttpRequest r = HttpRequest.newBuilder(URI.create(base + "/devices/" + deviceId + "/datapoints" + q))
                .header("api-key", product.masterKey()).timeout(Duration.ofSeconds(30)).GET().build();
        try {
            HttpResponse<byte[]> response = http.send(r, HttpResponse.BodyHandlers.ofByteArray());
            if (response.statusCode() != 200) {
                throw new IllegalStateException("history query: HTTP " + response.statusCode() + " "
                        + new String(response.body(), StandardCharsets.UTF_8));
            }
            return response.body();
        } catch (IOException e) {
            throw new IllegalStateException("history query failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static JsonNode data(byte[] body) {
        try {
            JsonNode root = JSON.readTree(body);
            if (root.path("errno").asInt(-1) != 0) {
                throw new IllegalStateException("API error: " + root);
            }
            return root.path("data");
        } catch (IOException e) {
            throw new IllegalStateException("not JSON: " + new String(body, StandardCharsets.UTF_8), e);
        }
    }

    private byte[] send(String method, String path, Object body, Map<String, String> headers) {
        try {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30))
                    .header("Content-Type", "application/json")
                    .method(method, HttpRequest.BodyPublishers.ofByteArray(
                            body instanceof byte[] raw ? raw : JSON.writeValueAsBytes(body)));
            headers.forEach(b::header);
            return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray()).body();
        } catch (IOException e) {
            throw new IllegalStateException(method + " " + path + " failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
