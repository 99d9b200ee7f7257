package io.stratus.device;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.stratus.store.Database;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SQL for device-level keys: rows of {@code api_key} with kind 'device'. Their permissions are stored as the
 * JSON text OneNET uses on the wire ({@code [{"access_methods":[..],"resources":[{"dev_id":"..","ds_id":".."}]}]}).
 */
final class KeyStore {
    private static final Logger log = LoggerFactory.getLogger(KeyStore.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Database db;

    KeyStore(Database db) {
        this.db = db;
    }

    List<ApiKey> load() {
        return load("");
    }

    /** The keys of one product as stored now (cluster mode: changed by another node). */
    List<ApiKey> load(long productId) {
        return load(" AND product_id = " + productId);
    }

    private List<ApiKey> load(String condition) {
        return db.list("SELECT api_key, product_id, title, permissions, create_time "
                + "FROM api_key WHERE kind = 'device'" + condition + " ORDER BY create_time, api_key",
                rs -> new ApiKey(rs.getString(1), rs.getLong(2), rs.getString(3), readPermissions(rs.getString(4)),
                        rs.getLong(5)));
    }

    void insert(ApiKey k) {
        db.update("INSERT INTO api_key (api_key, product_id, kind, title, permissions, create_time) "
                + "VALUES (?, ?, 'device', ?, ?, ?)", ps -> {
            ps.setString(1, k.key());
            ps.setLong(2, k.productId());
            ps.setString(3, k.title());
            ps.setString(4, writePermissions(k.permissions()));
            ps.setLong(5, k.createTime());
        });
    }

    void update(ApiKey k) {
        db.update("UPDATE api_key SET title = ?, permissions = ? WHERE api_key = ? AND kind = 'device'", ps -> {
            ps.setString(1, k.title());
            ps.setString(2, writePermissions(k.permissions()));
            ps.setString(3, k.key());
        });
    }

    void delete(String key) {
        db.update("DELETE FROM api_key WHERE api_key = ? AND kind = 'device'", ps -> ps.setString(1, key));
    }

    static String writePermissions(List<ApiKey.Permission> permissions) {
        ArrayNode array = JSON.createArrayNode();
        for (ApiKey.Permission p : permissions) {
            ObjectNode o = array.addObject();
            ArrayNode methods = o.putArray("access_methods");
            p.methods().forEach(m -> methods.add(m.wireName()));
            ArrayNode resources = o.putArray("resources");
            for (ApiKey.Resource r : p.resources()) {
                ObjectNode res = resources.addObject().put("dev_id", String.valueOf(r.deviceId()));
                if (r.streamId() != null) {
                    res.put("ds_id", r.streamId());
                }
            }
        }
        try {
            return JSON.writeValueAsString(array);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The stored text back to permissions; it was written by {@link #writePermissions}, so it is trusted. */
    private static List<ApiKey.Permission> readPermissions(String json) {
        List<ApiKey.Permission> out = new ArrayList<>();
        try {
            for (JsonNode p : JSON.readTree(json)) {
                Set<ApiKey.Method> methods = EnumSet.noneOf(ApiKey.Method.class);
                p.path("access_methods").forEach(m -> ApiKey.Method.of(m.asText()).ifPresent(methods::add));
                List<ApiKey.Resource> resources = new ArrayList<>();
                for (JsonNode r : p.path("resources")) {
                    JsonNode ds = r.get("ds_id");
                    resources.add(new ApiKey.Resource(Long.parseLong(r.path("dev_id").asText()),
                            ds == null || ds.isNull() ? null : ds.asText()));
                }
                out.add(new ApiKey.Permission(methods, resources));
            }
        } catch (JsonProcessingException | NumberFormatException e) {
            // A hand-edited row: the key keeps working with what could be read, never with more.
            log.warn("unreadable key permissions, treated as none: {}", e.getMessage());
            return List.of();
        }
        return out;
    }
}
