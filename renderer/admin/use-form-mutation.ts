/**
 * An admin form's save: the mutation, with the core's refusal placed next to the field it
 * names (and focused); the form keeps everything that was typed. Refusals that name no
 * field are the caller's to show (`fieldErrorOf(mutation.error, rules)` is then undefined).
 */
import { useMutation, type UseMutationResult } from '@tanstack/react-query';
import type { FieldValues, Path, UseFormReturn } from 'react-hook-form';
import { fieldErrorOf, type FieldRules } from './field-errors';

export function useFormMutation<F extends FieldValues, R>(
  form: UseFormReturn<F>,
  rules: FieldRules<Path<F>>,
  save: (values: F) => Promise<R>,
  on: { start?: () => void; saved: (result: R) => Promise<void> | void },
): UseMutationResult<R, Error, F> {
  return useMutation({
    mutationFn: save,
    onMutate: () => on.start?.(),
    onSuccess: (result) => on.saved(result),
    onError: (e) => {
      const f = fieldErrorOf(e, rules);
      if (f) form.setError(f.field, { type: 'server', message: f.message }, { shouldFocus: true });
    },
  });
}
