package io.stratus.device;

/** A product: a family of devices sharing a master key, topics and data. IDs are numeric strings on the wire. */
public record Product(long id, String title, String description, String protocol, String masterKey,
                      String registerCode, long createTime) {

    Product withMasterKey(String key) {
        return new Product(id, title, description, protocol, key, registerCode, createTime);
    }

    Product withRegisterCode(String code) {
        return new Product(id, title, description, protocol, masterKey, code, createTime);
    }
}
