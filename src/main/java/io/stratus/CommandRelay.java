package io.stratus;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.stratus.broker.Takeovers;
import io.stratus.cluster.NodeRequests;
import io.stratus.command.Command;
import io.stratus.command.CommandException;
import io.stratus.command.Commands;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cluster mode: a command to a device connected to another node is made by that node (docs/cluster.md), which sends it
 * on the device's connection, takes its response and keeps its state; the store is shared, so any node's API reads it.
 * A command to a device connected to no node waits in the store for the node the device logs in to; should that login
 * have read the store before the command was in it, {@link #pending} has that node send it.
 */
final class CommandRelay implements Commands.Elsewhere {
    static final String KIND = "cmd";
    static final String PENDING = "cmd-pending";
    private static final Logger log = LoggerFactory.getLogger(CommandRelay.class);
    private static final Duration TIMEOUT = Duration.ofSeconds(5);
    private static final ObjectMapper JSON = new ObjectMapper();

    record Request(long productId, long deviceId, byte[] body, int qos, int timeoutSeconds) {}

    record Reply(Command command, String error, String detail) {}

    private final Takeovers takeovers;
    private final NodeRequests requests;
    private final Commands commands;

    private CommandRelay(Takeovers takeovers, NodeRequests requests, Commands commands) {
        this.takeovers = takeovers;
        this.requests = requests;
        this.commands = commands;
    }

    /** Serves the commands other nodes send through this one, and sends this node's through the others. */
    static void start(Takeovers takeovers, NodeRequests requests, Commands commands) {
        CommandRelay relay = new CommandRelay(takeovers, requests, commands);
        requests.serve(KIND, relay::answer);
        requests.serve(PENDING, relay::deliverStored);
        commands.joinCluster(relay);
    }

    @Override
    public Command send(long productId, long deviceId, byte[] body, int qos, int timeoutSeconds) {
        String owner = takeovers.ownerElsewhere(productId, String.valueOf(deviceId));
        if (owner == null) {
            return null;
        }
        Reply reply;
        try {
            String answer = requests.ask(owner, KIND, JSON.writeValueAsString(new Request(productId, deviceId, body, qos,
                    timeoutSeconds)), TIMEOUT).get(TIMEOUT.toMillis() + 1_000, TimeUnit.MILLISECONDS);
            reply = JSON.readValue(answer, Reply.class);
        } catch (ExecutionException e) {
            if (NodeRequests.gone(e)) {
                return null; // the node that held the device is gone: the device is connected nowhere
            }
            throw unanswered(e);
        } catch (TimeoutException | java.util.concurrent.CancellationException | JsonProcessingException e) {
            throw unanswered(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw unanswered(e);
        }
        if (reply.error() != null) {
            throw new CommandException(CommandException.Reason.valueOf(reply.error()), reply.detail());
        }
        return reply.command();
    }

    @Override
    public void pending(long productId, long deviceId) {
        String owner = takeovers.ownerElsewhere(productId, String.valueOf(deviceId));
        if (owner != null) {
            requests.ask(owner, PENDING, productId + ":" + deviceId, TIMEOUT).whenComplete((answer, e) -> {
                if (e != null && !NodeRequests.gone(e)) {
                    log.info("[{}] a stored command waits for its next login: its node did not answer: {}", deviceId, e.toString());
                }
            });
        }
    }

    private String deliverStored(String request) {
        int colon = request.indexOf(':');
        commands.deliverStored(Long.parseLong(request.substring(0, colon)), Long.parseLong(request.substring(colon + 1)));
        return "ok";
    }

    private String answer(String request) {
        Reply reply;
        try {
            Request r = JSON.readValue(request, Request.class);
            reply = new Reply(commands.sendHere(r.productId(), r.deviceId(), r.body(), r.qos(), r.timeoutSeconds()), null, null);
        } catch (CommandException e) {
            reply = new Reply(null, e.reason().name(), e.getMessage());
        } catch (JsonProcessingException e) {
            reply = new Reply(null, CommandException.Reason.SYSTEM_LIMIT.name(), "unreadable request: " + e.getOriginalMessage());
        }
        try {
            return JSON.writeValueAsString(reply);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static CommandException unanswered(Exception e) {
        return new CommandException(CommandException.Reason.SYSTEM_LIMIT, "the device's node did not answer: " + e);
    }
}
