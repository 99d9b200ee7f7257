package io.stratus.e2e;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/** A bare MQTT 3.1.1 client on a socket, for byte-exact and malformed packets. */
public final class RawMqtt implements AutoCloseable {
    /** One packet read from the server: the first header byte and the body after the remaining length. */
    public record Packet(int header, byte[] body) {
        public int type() {
            return header >> 4;
        }
    }

    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;

    public RawMqtt(int port) throws IOException {
        this(port, null);
    }

    /** A connection from {@code localAddress} (another loopback address such as 127.0.0.2: another client host). */
    public RawMqtt(int port, String localAddress) throws IOException {
        socket = new Socket();
        if (localAddress != null) {
            socket.bind(new InetSocketAddress(localAddress, 0));
        }
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        socket.setSoTimeout(5000);
        in = new DataInputStream(socket.getInputStream());
        out = socket.getOutputStream();
    }

    public int localPort() {
        return socket.getLocalPort();
    }

    public void send(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    public void sendHex(String hex) throws IOException {
        send(HexFormat.of().parseHex(hex.replace(" ", "")));
    }

    /** Reads one packet; throws EOFException when the server closed the connection. */
    public Packet read() throws IOException {
        int header = in.read();
        if (header < 0) {
            throw new EOFException("closed by server");
        }
        int length = 0;
        for (int shift = 0; ; shift += 7) {
            int b = in.read();
            if (b < 0) {
                throw new EOFException("closed by server");
            }
            length |= (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                break;
            }
        }
        byte[] body = new byte[length];
        in.readFully(body);
        return new Packet(header, body);
    }

    /** True when the server closes the connection within {@code millis}, ignoring packets it sends first. */
    public boolean closedWithin(long millis) throws IOException {
        long end = System.currentTimeMillis() + millis;
        while (System.currentTimeMillis() < end) {
            socket.setSoTimeout((int) Math.max(1, end - System.currentTimeMillis()));
            try {
                if (in.read() < 0) {
                    return true;
                }
            } catch (SocketTimeoutException e) {
                return false;
            } catch (IOException e) {
                return true; // reset
            }
        }
        return false;
    }

    /**
     * Reads every packet the server sends until it closes the connection (end of stream or reset) and returns them.
     * Throws {@link SocketTimeoutException} when the connection is still open after {@code millis}.
     */
    public List<Packet> packetsUntilClosed(long millis) throws IOException {
        List<Packet> packets = new ArrayList<>();
        long end = System.currentTimeMillis() + millis;
        while (true) {
            long left = end - System.currentTimeMillis();
            if (left <= 0) {
                throw new SocketTimeoutException("still open after " + millis + " ms; received " + packets.size() + " packets");
            }
            socket.setSoTimeout((int) left);
            try {
                packets.add(read());
            } catch (SocketTimeoutException e) {
                throw e;
            } catch (IOException e) {
                return packets; // end of stream or reset
            }
        }
    }

    /** Half-closes the connection: the server sees the end of the stream, this side can still read. */
    public void shutdownOutput() throws IOException {
        socket.shutdownOutput();
    }

    /** Sends a CONNECT and returns the CONNACK return code, or -1 when the server closed without one. */
    public int connect(String clientId, String username, String password, int keepAlive, boolean clean) throws IOException {
        send(connectPacket(4, clientId, username, password, keepAlive, clean));
        try {
            Packet p = read();
            if (p.type() != 2) {
                throw new IOException("expected CONNACK, got type " + p.type());
            }
            return p.body()[1];
        } catch (EOFException e) {
            return -1;
        }
    }

    public static byte[] connectPacket(int level, String clientId, String username, String password, int keepAlive, boolean clean) {
        ByteArrayOutputStream vh = new ByteArrayOutputStream();
        writeString(vh, "MQTT");
        vh.write(level);
        int flags = (clean ? 0x02 : 0) | (username != null ? 0x80 : 0) | (password != null ? 0x40 : 0);
        vh.write(flags);
        vh.write(keepAlive >> 8);
        vh.write(keepAlive & 0xFF);
        writeString(vh, clientId);
        if (username != null) {
            writeString(vh, username);
        }
        if (password != null) {
            writeString(vh, password);
        }
        return packet(0x10, vh.toByteArray());
    }

    public static byte[] publishPacket(String topic, int qos, int packetId, byte[] payload) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        writeString(body, topic);
        if (qos > 0) {
            body.write(packetId >> 8);
            body.write(packetId & 0xFF);
        }
        body.writeBytes(payload);
        return packet(0x30 | (qos << 1), body.toByteArray());
    }

    public static byte[] subscribePacket(int packetId, String filter, int qos) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(packetId >> 8);
        body.write(packetId & 0xFF);
        writeString(body, filter);
        body.write(qos);
        return packet(0x82, body.toByteArray());
    }

    public static byte[] packet(int header, byte[] body) {
        ByteArrayOutputStream p = new ByteArrayOutputStream();
        p.write(header);
        int n = body.length;
        do {
            int b = n % 128;
            n /= 128;
            p.write(n > 0 ? b | 0x80 : b);
        } while (n > 0);
        p.writeBytes(body);
        return p.toByteArray();
    }

    private static void writeString(ByteArrayOutputStream out, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        out.write(b.length >> 8);
        out.write(b.length & 0xFF);
        out.writeBytes(b);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
