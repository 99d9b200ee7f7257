package io.stratus.hook;

/** A hook setting the server refuses, such as a data-push URL that fails its verification; the message says why. */
public final class HookException extends Exception {
    public HookException(String message) {
        super(message, null, false, false);
    }
}
