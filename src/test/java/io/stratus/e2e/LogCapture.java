package io.stratus.e2e;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.Arrays;
import java.util.List;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.LoggerFactory;

/**
 * Captures the lines one logger writes, so a test can wait for a log line and count lines. While attached, the
 * logger is held at INFO, whatever {@code STRATUS_LOG_LEVEL} says, so that the captured lines do not depend on the
 * environment. Use it as a JUnit extension ({@code @RegisterExtension final LogCapture log = LogCapture.mqttConnection();}
 * attaches before and detaches after each test) or with try-with-resources around {@link #attach()}.
 */
public final class LogCapture implements BeforeEachCallback, AfterEachCallback, AutoCloseable {
    private final Logger logger;
    private ListAppender<ILoggingEvent> appender;
    private Level previousLevel;

    private LogCapture(String loggerName) {
        this.logger = (Logger) LoggerFactory.getLogger(loggerName);
    }

    /** The logger of {@code io.stratus.mqtt.MqttConnection}, which logs one line per closed or refused connection. */
    public static LogCapture mqttConnection() {
        return new LogCapture("io.stratus.mqtt.MqttConnection");
    }

    public static LogCapture of(String loggerName) {
        return new LogCapture(loggerName);
    }

    /** Starts capturing; lines logged before this are not seen. */
    public synchronized LogCapture attach() {
        if (appender == null) {
            appender = new ListAppender<>();
            appender.setName("test-capture");
            appender.setContext(logger.getLoggerContext());
            appender.start();
            previousLevel = logger.getLevel();
            logger.setLevel(Level.INFO);
            logger.addAppender(appender);
        }
        return this;
    }

    /** Stops capturing and gives the logger its level back. */
    @Override
    public synchronized void close() {
        if (appender != null) {
            logger.detachAppender(appender);
            logger.setLevel(previousLevel);
            appender.stop();
            appender = null;
        }
    }

    /** The formatted messages captured so far that contain every one of {@code parts}, oldest first. */
    public List<String> lines(String... parts) {
        ListAppender<ILoggingEvent> a;
        synchronized (this) {
            a = appender;
        }
        if (a == null) {
            throw new IllegalStateException("not attached");
        }
        List<ILoggingEvent> events;
        synchronized (a) { // AppenderBase.doAppend holds this lock while it adds to the list
            events = List.copyOf(a.list);
        }
        return events.stream()
                .map(ILoggingEvent::getFormattedMessage)
                .filter(line -> Arrays.stream(parts).allMatch(line::contains))
                .toList();
    }

    /** Waits up to 5 s for a line containing every one of {@code parts} and returns the first such line. */
    public String await(String... parts) {
        return Awaitility.await().atMost(5, SECONDS).pollDelay(0, MILLISECONDS).pollInterval(10, MILLISECONDS)
                .until(() -> lines(parts), lines -> !lines.isEmpty())
                .get(0);
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        attach();
    }

    @Override
    public void afterEach(ExtensionContext context) {
        close();
    }
}
