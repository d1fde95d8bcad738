package kittyspark.runtime.tokenizer.template;

import java.util.AbstractList;
import java.util.ArrayList;
import java.util.List;

/** A Python tuple: a list that prints with parentheses and cannot be changed. */
final class TupleValue extends AbstractList<Object> {
    private final List<Object> items;

    TupleValue(List<Object> items) {
        this.items = new ArrayList<>(items);
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
