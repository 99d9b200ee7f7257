package io.stratus.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.http.Context;
import java.util.List;
import java.util.function.Function;

/** OneNET paging of an in-memory list: {@code page} (1..10000) and {@code per_page}, replied as {@code {total_count,page,per_page,<items>}}. */
record Page(int page, int perPage) {
    static final int MAX_PAGE = 10_000;

    /** The request's page; errno 6 when out of range. */
    static Page of(Context ctx, int maxPerPage, int defaultPerPage) {
        return new Page(Params.integer(ctx, "page", 1, MAX_PAGE, 1), Params.integer(ctx, "per_page", 1, maxPerPage, defaultPerPage));
    }

    /** The reply object with this page of {@code all}, each item turned to JSON, under {@code field}. */
    <T> ObjectNode reply(List<T> all, String field, Function<T, ? extends com.fasterxml.jackson.databind.JsonNode> json) {
        int from = (int) Math.min((long) (page - 1) * perPage, all.size());
        int to = Math.min(from + perPage, all.size());
        ObjectNode o = JsonBody.MAPPER.createObjectNode();
        o.put("total_count", all.size());
        o.put("page", page);
        o.put("per_page", perPage);
        ArrayNode items = o.putArray(field);
        for (T item : all.subList(from, to)) {
            items.add(json.apply(item));
        }
        return o;
    }
}
