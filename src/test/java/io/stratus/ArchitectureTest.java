package io.stratus;

import static com.tngtech.archunit.core.domain.JavaClass.Predicates.belongToAnyOf;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The shape of the code that docs/architecture.md describes, checked on the compiled main classes: which package may
 * use which, where Netty and JDBC may appear, and how large a source file may grow.
 */
class ArchitectureTest {
    /** Above this, a class does more than one thing; split it along a real seam. */
    static final int MAX_LINES = 400;

    private static JavaClasses main;

    @BeforeAll
    static void importMainClasses() {
        main = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS).importPackages("io.stratus");
    }

    @Test
    void packages_depend_only_downward() {
        layeredArchitecture().consideringOnlyDependenciesInLayers()
                .layer("Root").definedBy(belongToAnyOf(Platform.class, Main.class, Instruments.class))
                .layer("Api").definedBy("io.stratus.api..")
                .layer("Mqtt").definedBy("io.stratus.mqtt..")
                .layer("Hook").definedBy("io.stratus.hook..")
                .layer("Telemetry").definedBy("io.stratus.telemetry..")
                .layer("Command").definedBy("io.stratus.command..")
                .layer("Broker").definedBy("io.stratus.broker..")
                .layer("Device").definedBy("io.stratus.device..")
                .layer("Store").definedBy("io.stratus.store..")
                .layer("Monitor").definedBy("io.stratus.monitor..")
                .layer("Tls").definedBy("io.stratus.tls..")
                .layer("Transport").definedBy("io.stratus.transport..")
                .layer("Cluster").definedBy("io.stratus.cluster..")
                .layer("Settings").definedBy(belongToAnyOf(Config.class, SettingValues.class))
                .whereLayer("Root").mayNotBeAccessedByAnyLayer()
                .whereLayer("Api").mayOnlyBeAccessedByLayers("Root")
                .whereLayer("Mqtt").mayOnlyBeAccessedByLayers("Root")
                .whereLayer("Hook").mayOnlyBeAccessedByLayers("Api", "Root")
                .whereLayer("Telemetry").mayOnlyBeAccessedByLayers("Hook", "Api", "Root")
                .whereLayer("Command").mayOnlyBeAccessedByLayers("Api", "Root")
                .whereLayer("Broker").mayOnlyBeAccessedByLayers("Telemetry", "Command", "Mqtt", "Api", "Root")
                .whereLayer("Device").mayOnlyBeAccessedByLayers("Broker", "Telemetry", "Command", "Hook", "Mqtt", "Api", "Root")
                .whereLayer("Store").mayOnlyBeAccessedByLayers("Device", "Broker", "Telemetry", "Command", "Hook", "Mqtt",
                        "Api", "Root")
                .whereLayer("Tls").mayOnlyBeAccessedByLayers("Mqtt", "Api", "Root")
                .whereLayer("Transport").mayOnlyBeAccessedByLayers("Mqtt", "Api", "Root")
                .whereLayer("Cluster").mayOnlyBeAccessedByLayers("Broker", "Root")
                .whereLayer("Monitor").mayOnlyBeAccessedByLayers("Store", "Device", "Broker", "Telemetry", "Command", "Hook",
                        "Mqtt", "Api", "Root")
                .check(main);
    }

    @Test
    void netty_stays_in_the_mqtt_package() {
        noClasses().that().resideOutsideOfPackage("io.stratus.mqtt..")
                .should().dependOnClassesThat().resideInAPackage("io.netty..")
                .because("the broker and everything above it are Netty-free; connections reach them through broker.Outbox")
                .check(main);
    }

    @Test
    void sql_stays_in_the_store_classes() {
        noClasses().that().resideOutsideOfPackage("io.stratus.store..")
                .and().haveSimpleNameNotEndingWith("Store")
                .should().dependOnClassesThat().resideInAPackage("java.sql..")
                .because("SQL lives behind the store seam (store/ and the *Store class of each package), where a second "
                        + "database can be added without touching callers")
                .check(main);
    }

    @Test
    void no_source_file_is_over_the_line_limit() throws IOException {
        Map<String, Long> tooLong = new TreeMap<>();
        try (Stream<Path> files = Files.walk(Path.of("src/main/java"))) {
            files.filter(f -> f.toString().endsWith(".java")).forEach(f -> {
                long lines = lineCount(f);
                if (lines > MAX_LINES) {
                    tooLong.put(f.toString(), lines);
                }
            });
        }
        assertThat(tooLong).as("source files over " + MAX_LINES + " lines").isEmpty();
    }

    private static long lineCount(Path file) {
        try (Stream<String> lines = Files.lines(file)) {
            return lines.count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
