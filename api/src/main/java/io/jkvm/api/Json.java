package io.jkvm.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

/**
 * The one JSON mapper of the API, strict as Firecracker's serde types: unknown fields, a string where a
 * number belongs (or the reverse), a fraction for an integer, null for a number or flag, trailing tokens
 * and an empty body are all errors, reported in one line.
 */
public final class Json {
    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .build();

    private Json() {}

    /** The body as a {@code type}, or an {@link ApiFault} naming what is wrong with it. */
    public static <T> T read(byte[] body, Class<T> type) {
        if (body.length == 0) throw new ApiFault("The request needs a JSON body (" + type.getSimpleName() + ").");
        try {
            T value = MAPPER.readValue(body, type);
            if (value == null) throw new ApiFault("The body must be a JSON object (" + type.getSimpleName() + "), not null.");
            return value;
        } catch (JsonProcessingException e) {
            String where = e instanceof JsonMappingException m && !m.getPath().isEmpty() ? " at " + field(m) : "";
            throw new ApiFault("Bad " + type.getSimpleName() + " body" + where + ": "
                    + e.getOriginalMessage().lines().findFirst().orElse(""));
        } catch (java.io.IOException e) {
            throw new ApiFault("Unreadable body: " + e.getMessage());
        }
    }

    /** The field the error is about, as a JSON path: {@code vcpu_count}, {@code rate_limiter.ops}. */
    private static String field(JsonMappingException e) {
        StringBuilder path = new StringBuilder();
        for (JsonMappingException.Reference r : e.getPath()) {
            if (r.getFieldName() != null) path.append(path.length() == 0 ? "" : ".").append(r.getFieldName());
            else path.append('[').append(r.getIndex()).append(']');
        }
        return path.toString();
    }

    public static byte[] write(Object value) {
        try {
            return MAPPER.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write " + value, e);
        }
    }

    public static <T> T read(String text, Class<T> type) {
        return read(text.getBytes(java.nio.charset.StandardCharsets.UTF_8), type);
    }
}
