package io.stratus.device;

/** The outcome of a device login, as the CONNACK return codes of MQTT 3.1.1 and OneNET (D5, docs/decisions.md). */
public enum ConnectCode {
    ACCEPTED(0),
    UNACCEPTABLE_PROTOCOL_VERSION(1),
    IDENTIFIER_REJECTED(2),
    SERVER_UNAVAILABLE(3),
    BAD_USERNAME_OR_PASSWORD(4),
    NOT_AUTHORIZED(5);

    public final int code;

    ConnectCode(int code) {
        this.code = code;
    }
}
