package io.stratus.command;

/** The live state of one open command (status 1 or 2). Its monitor orders the changes to it. */
final class OpenCommand {
    /** Written under the monitor, read without it; never with a body. */
    volatile Command command;
    /** Its entry in the expiry set (the expiry time never changes). */
    final ExpiryTimer.Expiry expiry;
    /** A send is being written; another would only duplicate it. */
    boolean sending;
    /** When the last send started: the send time of a command answered before its write completed. */
    long sendStartedAt;
    /** Final or deleted: nothing may change it or write it any more. */
    boolean closed;

    OpenCommand(Command command) {
        this.command = command;
        this.expiry = new ExpiryTimer.Expiry(command.expireAt(), command.uuid());
    }
}
