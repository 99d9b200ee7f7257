package io.stratus.api;

import io.javalin.http.Context;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * {@code GET /openapi.json}: the OpenAPI 3 description of the whole HTTP API (issue 4 item 6). No OpenAPI plugin
 * exists for Javalin 7, so the document is written by hand in {@code src/main/resources/openapi.json}; OpenApiTest
 * fails when a registered route is missing from it or it describes a route that is not registered. Read once at
 * start; open to anyone, since it describes routes, never data.
 */
final class OpenApiDocument {
    static final String RESOURCE = "/openapi.json";

    private final byte[] json;

    OpenApiDocument() {
        try (InputStream in = OpenApiDocument.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is missing from the classpath");
            }
            this.json = in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + RESOURCE, e);
        }
    }

    void serve(Context ctx) {
        ctx.contentType("application/json").result(json);
    }
}
