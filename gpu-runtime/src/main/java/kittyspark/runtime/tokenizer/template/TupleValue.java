package kittyspark.runtime.tokenizer.template;

import java.util.AbstractList;
import java.util.ArrayList;
import java.util.List;

/** A Python tuple: a list that prints with parentheses and cannot be changed; a named tuple also has field names. */
final class TupleValue extends AbstractList<Object> {
    private final List<Object> items;
    private final List<String> fieldNames;

    TupleValue(List<Object> items) {
        this(items, List.of());
    }

    TupleValue(List<Object> items, List<String> fieldNames) {
        this.items = new ArrayList<>(items);
        this.fieldNames = fieldNames;
    }

    /** The position of a named field, or -1. */
    int fieldIndex(String name) {
        return fieldNames.indexOf(name);
    }

    @Override
    public Object get(int index) {
        return items.get(index);
    }

    @Override
    public int size() {
        return items.size();
    }
}
