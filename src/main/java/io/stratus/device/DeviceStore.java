package io.stratus.device;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.stratus.store.Database;
import io.stratus.store.ProductCleanup;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.List;

/** SQL for products, devices, keys and server settings. */
final class DeviceStore {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Database db;
    private final String putSetting;

    DeviceStore(Database db) {
        this.db = db;
        this.putSetting = db.dialect().upsert("setting", List.of("name"), List.of("value"));
    }

    private static final String PRODUCTS = "SELECT p.id, p.title, p.description, p.protocol, k.api_key, p.register_code, "
            + "p.create_time FROM product p LEFT JOIN api_key k ON k.product_id = p.id AND k.kind = 'master'";
    private static final String DEVICES = "SELECT id, product_id, title, description, auth_info, protocol, private, disabled, "
            + "tags, location, other, create_time, last_login, last_logout FROM device";

    List<Product> loadProducts() {
        return db.list(PRODUCTS, DeviceStore::product);
    }

    /** One product as stored now, or null (cluster mode: a change made by another node). */
    Product loadProduct(long id) {
        return db.list(PRODUCTS + " WHERE p.id = " + id, DeviceStore::product).stream().findFirst().orElse(null);
    }

    List<Device> loadDevices() {
        return db.list(DEVICES, DeviceStore::device);
    }

    /** One device as stored now, or null (cluster mode: a device made or changed by another node). */
    Device loadDevice(long id) {
        return db.list(DEVICES + " WHERE id = " + id, DeviceStore::device).stream().findFirst().orElse(null);
    }

    private static Product product(ResultSet rs) throws SQLException {
        return new Product(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
                rs.getString(6), rs.getLong(7));
    }

    private static Device device(ResultSet rs) throws SQLException {
        return new Device(rs.getLong(1), rs.getLong(2), rs.getString(3), rs.getString(4), rs.getString(5),
                rs.getString(6), rs.getInt(7) != 0, rs.getInt(8) != 0, readTags(rs.getString(9)),
                rs.getString(10), rs.getString(11), rs.getLong(12), rs.getLong(13), rs.getLong(14));
    }

    Product insertProduct(String title, String description, String protocol, String masterKey, String registerCode, long now) {
        return db.inTransaction(c -> {
            long id = db.insertReturningId(c,
                    "INSERT INTO product (title, description, protocol, register_code, create_time) VALUES (?,?,?,?,?)", ps -> {
                        ps.setString(1, title);
                        ps.setString(2, description);
                        ps.setString(3, protocol);
                        ps.setString(4, registerCode);
                        ps.setLong(5, now);
                    });
            insertMasterKey(c, id, masterKey, now);
            return new Product(id, title, description, protocol, masterKey, registerCode, now);
        });
    }

    void updateProduct(Product p) {
        db.update("UPDATE product SET title = ?, description = ?, protocol = ?, register_code = ? WHERE id = ?", ps -> {
            ps.setString(1, p.title());
            ps.setString(2, p.description());
            ps.setString(3, p.protocol());
            ps.setString(4, p.registerCode());
            ps.setLong(5, p.id());
        });
    }

    void replaceMasterKey(long productId, String key, long now) {
        db.inTransaction(c -> {
            Database.update(c, "DELETE FROM api_key WHERE product_id = ? AND kind = 'master'", ps -> ps.setLong(1, productId));
            insertMasterKey(c, productId, key, now);
            return null;
        });
    }

    /**
     * Deletes a product and everything of it in one transaction: first what other packages keep per product
     * ({@code cleanups}: retained messages, sessions, topics, data points), then devices (their commands cascade),
     * keys and the product row (its triggers and push target cascade).
     */
    void deleteProduct(long productId, List<ProductCleanup> cleanups) {
        db.inTransaction(c -> {
            for (ProductCleanup cleanup : cleanups) {
                cleanup.delete(c, productId);
            }
            for (String sql : List.of("DELETE FROM device WHERE product_id = ?", "DELETE FROM api_key WHERE product_id = ?",
                    "DELETE FROM product WHERE id = ?")) {
                Database.update(c, sql, ps -> ps.setLong(1, productId));
            }
            return null;
        });
    }

    Device insertDevice(long productId, DeviceChange d, long now) {
        long id = db.withConnection(c -> db.insertReturningId(c, "INSERT INTO device (product_id, title, description, "
                + "auth_info, protocol, private, disabled, tags, location, other, create_time) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                ps -> {
                    ps.setLong(1, productId);
                    bindDeviceFields(ps, 2, d);
                    ps.setLong(11, now);
                }));
        return new Device(id, productId, d.title(), d.description(), d.authInfo(), d.protocol(), d.isPrivate(), d.disabled(),
                d.tags(), d.locationJson(), d.otherJson(), now, 0, 0);
    }

    void updateDevice(Device d) {
        db.update("UPDATE device SET title = ?, description = ?, auth_info = ?, "
                + "protocol = ?, private = ?, disabled = ?, tags = ?, location = ?, other = ? WHERE id = ?", ps -> {
            bindDeviceFields(ps, 1, new DeviceChange(d.title(), d.description(), d.authInfo(), d.protocol(),
                    d.isPrivate(), d.disabled(), d.tags(), d.locationJson(), d.otherJson()));
            ps.setLong(10, d.id());
        });
    }

    void deleteDevice(long deviceId) {
        db.update("DELETE FROM device WHERE id = ?", ps -> ps.setLong(1, deviceId));
    }

    /** Records login and logout times; called from the registry's background writer. */
    static void writePresence(Connection c, long deviceId, long lastLogin, long lastLogout) throws SQLException {
        Database.update(c, "UPDATE device SET last_login = ?, last_logout = ? WHERE id = ?", ps -> {
            ps.setLong(1, lastLogin);
            ps.setLong(2, lastLogout);
            ps.setLong(3, deviceId);
        });
    }

    String setting(String name) {
        return db.withConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT value FROM setting WHERE name = ?")) {
                ps.setString(1, name);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? rs.getString(1) : null;
                }
            }
        });
    }

    /** Upserts a setting inside a writer's transaction. */
    void writeSetting(Connection c, String name, String value) throws SQLException {
        Database.update(c, putSetting, setting(name, value));
    }

    void putSetting(String name, String value) {
        db.update(putSetting, setting(name, value));
    }

    private static Database.Parameters setting(String name, String value) {
        return ps -> {
            ps.setString(1, name);
            ps.setString(2, value);
        };
    }

    private static void insertMasterKey(Connection c, long productId, String key, long now) throws SQLException {
        Database.update(c, "INSERT INTO api_key (api_key, product_id, kind, title, create_time) "
                + "VALUES (?, ?, 'master', 'master key', ?)", ps -> {
            ps.setString(1, key);
            ps.setLong(2, productId);
            ps.setLong(3, now);
        });
    }

    private static void bindDeviceFields(PreparedStatement ps, int i, DeviceChange d) throws SQLException {
        ps.setString(i, d.title());
        ps.setString(i + 1, d.description());
        ps.setString(i + 2, d.authInfo());
        ps.setString(i + 3, d.protocol());
        ps.setInt(i + 4, d.isPrivate() ? 1 : 0);
        ps.setInt(i + 5, d.disabled() ? 1 : 0);
        ps.setString(i + 6, writeTags(d.tags()));
        setNullableString(ps, i + 7, d.locationJson());
        setNullableString(ps, i + 8, d.otherJson());
    }

    private static void setNullableString(PreparedStatement ps, int i, String value) throws SQLException {
        if (value == null) {
            ps.setNull(i, Types.VARCHAR);
        } else {
            ps.setString(i, value);
        }
    }

    private static String writeTags(List<String> tags) {
        try {
            return JSON.writeValueAsString(tags);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(e);
        }
    }

    private static List<String> readTags(String json) {
        try {
            return json == null ? List.of() : JSON.readValue(json, new TypeReference<List<String>>() {});
        } catch (JsonProcessingException e) {
            return List.of();
        }
    }
}
