package io.stratus.api;

import io.stratus.store.BatchWriter;
import io.stratus.store.StoreException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Waits, on an HTTP worker thread, for a write to commit; storage that cannot take it is errno 13 (REST status 503). */
final class StoreWait {
    private StoreWait() {
    }

    static <T> T await(CompletableFuture<T> f) throws InterruptedException, TimeoutException {
        try {
            return f.get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof BatchWriter.Overloaded) {
                throw new ApiError(Errno.SYSTEM_LIMIT, "storage queue is full, retry later");
            }
            if (e.getCause() instanceof StoreException) {
                // A full disk or a locked database: nothing was stored; the client may retry.
                throw new ApiError(Errno.SYSTEM_LIMIT, "storage unavailable, nothing stored: " + e.getCause().getMessage());
            }
            throw new IllegalStateException("storing failed: " + e.getCause().getMessage(), e.getCause());
        }
    }
}
