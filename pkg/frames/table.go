package frames

import (
	"github.com/grafana/grafana-plugin-sdk-go/data"
)

// StatusMappings colour the drift statuses "ok", "warning" and "drift" (DESIGN §5).
var StatusMappings = data.ValueMappings{data.ValueMapper{
	"ok":      {Text: "ok", Color: "green", Index: 0},
	"warning": {Text: "warning", Color: "yellow", Index: 1},
	"drift":   {Text: "drift", Color: "red", Index: 2},
}}

// StatusField is a string column of drift statuses, coloured by StatusMappings.
func StatusField(name string, values []string) *data.Field {
	f := data.NewField(name, nil, values)
	f.SetConfig(&data.FieldConfig{
		Mappings: StatusMappings,
		Custom:   map[string]interface{}{"cellOptions": map[string]interface{}{"type": "color-text"}},
	})
	return f
}

// NumberField is a float64 column with an optional unit.
func NumberField(name, unit string, values []float64) *data.Field {
	f := data.NewField(name, nil, values)
	if unit != "" {
		f.SetConfig(&data.FieldConfig{Unit: unit})
	}
	return f
}

// StringField is a string column.
func StringField(name string, values []string) *data.Field {
	return data.NewField(name, nil, values)
}

// LabelledNumberField is a float64 column of a table with labels (a `method` of a table that
// holds several measures) and the name Grafana displays for it.
func LabelledNumberField(name string, labels data.Labels, display string, values []float64) *data.Field {
	f := data.NewField(name, labels, values)
	f.SetConfig(&data.FieldConfig{DisplayNameFromDS: display})
	return f
}

// ModelFields are the leading columns of a per-model table: "model", and "version" when the
// query named a version (or the table has one row per version).
func ModelFields(model, version []string, withVersion bool) []*data.Field {
	fields := []*data.Field{StringField("model", model)}
	if withVersion {
		fields = append(fields, StringField("version", version))
	}
	return fields
}
