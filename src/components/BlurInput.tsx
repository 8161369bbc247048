import React, { useState } from 'react';
import { Input } from '@grafana/ui';

interface Props {
  id: string;
  value: string;
  onCommit: (value: string) => void;
  placeholder?: string;
  width?: number;
  invalid?: boolean;
  type?: 'text' | 'number';
  'aria-label'?: string;
}

/**
 * A text input that keeps what is being typed locally and reports it on blur or Enter, so that a
 * half-typed value ("0.", "5") never reaches the query or runs it.
 */
export function BlurInput({ id, value, onCommit, placeholder, width, invalid, type, ...rest }: Props) {
  const [text, setText] = useState(value);
  // When the query changes from outside (undo, another editor), show the new value.
  const [shownValue, setShownValue] = useState(value);
  if (value !== shownValue) {
    setShownValue(value);
    setText(value);
  }
  const commit = () => {
    if (text !== value) {
      onCommit(text);
    }
  };
  return (
    <Input
      id={id}
      type={type ?? 'text'}
      width={width}
      value={text}
      invalid={invalid}
      placeholder={placeholder}
      aria-label={rest['aria-label']}
      onChange={(e) => setText(e.currentTarget.value)}
      onBlur={commit}
      onKeyDown={(e) => {
        if (e.key === 'Enter') {
          commit();
        }
      }}
    />
  );
}
