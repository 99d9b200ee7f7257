package io.stratus.api;

import io.javalin.http.Context;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletionException;
import org.eclipse.jetty.http.MultiPart;
import org.eclipse.jetty.http.MultiPartConfig;
import org.eclipse.jetty.http.MultiPartFormData;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.util.Attributes;

/**
 * The file of a {@code multipart/form-data} body, as OneNET's Java SDK posts {@code /bindata} (Apache HttpClient's
 * {@code MultipartEntityBuilder}: one part named after the file, with a {@code filename}): the part with a filename,
 * else the first part.
 *
 * <p>The body is read with the same bounded read as a raw one (over the limit: errno 5, nothing parsed), then parsed
 * by Jetty's multipart parser with every part kept in memory, so no temporary file is written and nothing beyond
 * the bound is buffered.
 */
final class MultipartFile {
    /** Room around a file of the full size for boundaries, part headers and small text fields. */
    static final int MAX_ENVELOPE_BYTES = 64 * 1024;
    private static final MultiPartConfig PARSER = new MultiPartConfig.Builder()
            .maxMemoryPartSize(-1)
            .useFilesForPartsWithoutFileName(false)
            .maxParts(100)
            .build();

    private MultipartFile() {
    }

    /** The file's bytes, 1 to {@code maxBytes}: errno 5 beyond, 9 without a part or with an empty one, 6 malformed. */
    static byte[] read(Context ctx, int maxBytes) {
        String contentType = ctx.contentType();
        if (MultiPart.extractBoundary(contentType) == null) {
            throw ApiError.invalid("multipart/form-data without a boundary parameter");
        }
        byte[] body = JsonBody.readLimited(ctx, maxBytes + MAX_ENVELOPE_BYTES);
        if (body.length == 0) {
            throw new ApiError(Errno.ENTITY_REQUIRED);
        }
        MultiPartFormData.Parts parts;
        try {
            parts = MultiPartFormData.getParts(Content.Source.from(ByteBuffer.wrap(body)), new Attributes.Mapped(),
                    contentType, PARSER);
        } catch (CompletionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            throw ApiError.invalid("multipart body could not be parsed: " + cause.getMessage());
        }
        try (parts) {
            if (parts.size() == 0) {
                throw new ApiError(Errno.ENTITY_REQUIRED, "the multipart body has no part");
            }
            MultiPart.Part file = parts.get(0);
            for (MultiPart.Part p : parts) {
                if (p.getFileName() != null) {
                    file = p;
                    break;
                }
            }
            if (file.getLength() > maxBytes) {
                throw new ApiError(Errno.TOO_LARGE, "file part over " + maxBytes + " bytes");
            }
            if (file.getLength() == 0) {
                throw new ApiError(Errno.ENTITY_REQUIRED, "the file part is empty");
            }
            ByteBuffer content = Content.Source.asByteBuffer(file.createContentSource());
            byte[] bytes = new byte[content.remaining()];
            content.get(bytes);
            return bytes;
        } catch (IOException e) {
            throw ApiError.invalid("multipart body could not be parsed: " + e.getMessage());
        }
    }
}
