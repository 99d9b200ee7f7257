package io.stratus.telemetry;

/** A point as stored: its stream, time (epoch ms) and value as compact JSON text. */
public record StoredPoint(String stream, long at, String valueJson) {
}
