package io.stratus.telemetry;

import io.stratus.store.Database;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** SQL reads of the datapoint (history) table: pages of a window, its extents, and its down-sampling. */
final class HistoryStore {
    private final Database db;

    HistoryStore(Database db) {
        this.db = db;
    }

    /**
     * Points of the given streams in [from, to], ordered by (time, stream), after the keyset position
     * {@code after} when given, at most {@code limit}.
     */
    List<StoredPoint> range(long deviceId, Collection<String> streams, long from, long to, boolean descending,
                            Cursor after, int limit, ReplyBudget budget) {
        return db.withConnection(c -> {
            StringBuilder sql = new StringBuilder("SELECT stream, ts, value FROM datapoint WHERE device_id = ? AND stream IN (")
                    .append("?,".repeat(streams.size() - 1)).append("?) AND ts >= ? AND ts <= ?");
            if (after != null) {
                sql.append(descending ? " AND (ts, stream) < (?, ?)" : " AND (ts, stream) > (?, ?)");
            }
            String dir = descending ? " DESC" : " ASC";
            sql.append(" ORDER BY ts").append(dir).append(", stream").append(dir).append(" LIMIT ?");
            try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
                int i = 1;
                ps.setLong(i++, deviceId);
                for (String s : streams) {
                    ps.setString(i++, s);
                }
                ps.setLong(i++, from);
                ps.setLong(i++, to);
                if (after != null) {
                    ps.setLong(i++, after.at());
                    ps.setString(i++, after.stream());
                }
                ps.setInt(i, limit);
                List<StoredPoint> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        String value = rs.getString(3);
                        budget.take(value);
                        out.add(new StoredPoint(rs.getString(1), rs.getLong(2), value));
                    }
                }
                return out;
            }
        });
    }

    /** How many points of a stream lie in a window, and the times of the first and last. */
    record Extent(long count, long first, long last) {}

    /** Per stream that has points in [from, to]: their count and time span. */
    Map<String, Extent> extents(long deviceId, Collection<String> streams, long from, long to) {
        return db.withConnection(c -> {
            String sql = "SELECT stream, COUNT(*), MIN(ts), MAX(ts) FROM datapoint WHERE device_id = ? AND stream IN ("
                    + "?,".repeat(streams.size() - 1) + "?) AND ts >= ? AND ts <= ? GROUP BY stream";
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                int i = 1;
                ps.setLong(i++, deviceId);
                for (String s : streams) {
                    ps.setString(i++, s);
                }
                ps.setLong(i++, from);
                ps.setLong(i, to);
                Map<String, Extent> out = new LinkedHashMap<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.put(rs.getString(1), new Extent(rs.getLong(2), rs.getLong(3), rs.getLong(4)));
                    }
                }
                return out;
            }
        });
    }

    /**
     * Points of the given streams in [from, to] reduced to at most two per time bucket of {@code width} ms
     * counted from {@code from}: the point with the smallest and the one with the largest numeric value, so
     * that spikes survive (an average would hide them). In a bucket without numbers (strings, objects) the
     * first and the last point stand in. Ordered by (time, stream).
     *
     * <p>One pass over the window in primary-key order, bucketed here rather than in SQL: a window-function
     * query (ROW_NUMBER per bucket) sorts every row and took seconds for a week of 1 Hz points, and SQLite's
     * GROUP BY cannot return the row of both the minimum and the maximum at once.
     */
    List<StoredPoint> minMaxPerBucket(long deviceId, Collection<String> streams, long from, long to, long width,
                                      ReplyBudget budget) {
        return db.withConnection(c -> {
            List<StoredPoint> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT ts, value FROM datapoint WHERE device_id = ? AND stream = ? "
                    + "AND ts >= ? AND ts <= ? ORDER BY ts")) {
                for (String stream : streams) {
                    ps.setLong(1, deviceId);
                    ps.setString(2, stream);
                    ps.setLong(3, from);
                    ps.setLong(4, to);
                    Bucket bucket = null;
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            long ts = rs.getLong(1);
                            long index = Math.floorDiv(ts - from, width);
                            if (bucket == null || bucket.index != index) {
                                if (bucket != null) {
                                    bucket.emit(out, budget);
                                }
                                bucket = new Bucket(stream, index);
                            }
                            bucket.add(ts, rs.getString(2));
                        }
                    }
                    if (bucket != null) {
                        bucket.emit(out, budget);
                    }
                }
            }
            out.sort(Comparator.comparingLong(StoredPoint::at).thenComparing(StoredPoint::stream));
            return out;
        });
    }

    /** One time bucket of one stream while it is being read: its extremes, and its ends for non-numbers. */
    private static final class Bucket {
        final String stream;
        final long index;
        StoredPoint first;
        long lastAt;
        String lastValue;
        StoredPoint min;
        StoredPoint max;
        double minValue;
        double maxValue;

        Bucket(String stream, long index) {
            this.stream = stream;
            this.index = index;
        }

        void add(long ts, String valueJson) {
            StoredPoint p = null;
            if (first == null) {
                first = p = new StoredPoint(stream, ts, valueJson);
            }
            lastAt = ts;
            lastValue = valueJson;
            double v = number(valueJson);
            if (Double.isNaN(v)) {
                return;
            }
            if (min == null || v < minValue) {
                min = p != null ? p : (p = new StoredPoint(stream, ts, valueJson));
                minValue = v;
            }
            if (max == null || v > maxValue) {
                max = p != null ? p : new StoredPoint(stream, ts, valueJson);
                maxValue = v;
            }
        }

        void emit(List<StoredPoint> out, ReplyBudget budget) {
            StoredPoint a = min != null ? min : first;
            StoredPoint b = min != null ? max : lastAt == first.at() ? first : new StoredPoint(stream, lastAt, lastValue);
            budget.take(a.valueJson());
            out.add(a.at() <= b.at() ? a : b);
            if (a != b) {
                budget.take(b.valueJson());
                out.add(a.at() <= b.at() ? b : a);
            }
        }

        /** The value of a JSON number, NaN for any other JSON value. */
        private static double number(String json) {
            char c = json.isEmpty() ? ' ' : json.charAt(0);
            if (c != '-' && (c < '0' || c > '9')) {
                return Double.NaN;
            }
            try {
                return Double.parseDouble(json);
            } catch (NumberFormatException e) {
                return Double.NaN;
            }
        }
    }
}
