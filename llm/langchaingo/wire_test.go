package langchaingo

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestObjectEditingKeepsBytes(t *testing.T) {
	in := `{"b": 1, "a": {"z": [1, 2], "y": "x"}, "temperature": 0, "c": "\u003c"}`
	o, err := decodeObject([]byte(in))
	require.NoError(t, err)
	assert.Equal(t, `{"b":1,"a":{"z": [1, 2], "y": "x"},"temperature":0,"c":"\u003c"}`, string(o.encode()))

	o.del("temperature")
	o.insertAfter("b", "tool_choice", json.RawMessage(`{"type":"any"}`))
	o.set("c", json.RawMessage(`"d"`))
	o.set("e", json.RawMessage(`null`))
	o.insertAfter("missing", "f", json.RawMessage(`1`))
	assert.Equal(t, `{"b":1,"tool_choice":{"type":"any"},"a":{"z": [1, 2], "y": "x"},"c":"d","e":null,"f":1}`, string(o.encode()))

	_, err = decodeObject([]byte(`[1]`))
	assert.Error(t, err)
	_, err = decodeObject([]byte(`{"a":`))
	assert.Error(t, err)

	arr, err := decodeArray([]byte(` [ {"x": 1} , 2, "three" ] `))
	require.NoError(t, err)
	assert.Equal(t, `[{"x": 1},2,"three"]`, string(encodeArray(arr)))
	empty, err := decodeArray([]byte(`[]`))
	require.NoError(t, err)
	assert.Equal(t, `[]`, string(encodeArray(empty)))
}

func TestParseOpenAISSEWithoutIndex(t *testing.T) {
	// Some compatible servers omit the index: an id starts a call, fragments without id continue it.
	body := []byte("data: {\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"id\":\"a\",\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"x\\\":\"}}]}}]}\n\n" +
		"data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"function\":{\"arguments\":\"1}\"}}]}}]}\n\n" +
		"data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"id\":\"b\",\"function\":{\"name\":\"g\",\"arguments\":\"{}\"}}]},\"finish_reason\":\"tool_calls\"}]}\n\n" +
		": keep-alive comment\n\ndata: not json\n\ndata: [DONE]\n\n")
	s := newOpenAIStream()
	require.NoError(t, readStream(bytes.NewReader(body), s, func(delta) error { return nil }))
	r, _, err := s.reply()
	require.NoError(t, err)
	assert.Equal(t, "m", r.model)
	assert.Equal(t, "tool_calls", r.stop)
	require.Len(t, r.toolCalls, 2)
	assert.Equal(t, `{"x":1}`, r.toolCalls[0].Arguments)
	assert.Equal(t, "b", r.toolCalls[1].ID)
	assert.Equal(t, "g", r.toolCalls[1].Name)
}
