package io.stratus.hook;

import io.stratus.e2e.TestPlatform;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/**
 * A server with {@link HookFixtures#FAST}'s hook settings and a receiver for what it posts, started once for the tests
 * of a class that extends this one.
 */
abstract class HookReceiverTest {
    @TempDir
    static Path dataDir;
    static TestPlatform platform;
    static Receiver receiver;

    @BeforeAll
    static void startPlatformAndReceiver() {
        platform = TestPlatform.start(dataDir, HookFixtures.FAST);
        receiver = Receiver.start();
    }

    @AfterAll
    static void stopPlatformAndReceiver() {
        platform.close();
        receiver.close();
    }
}
