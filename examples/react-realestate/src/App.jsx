// The "Optimistic UI" example of the Amplify Gen 2 data guides (TanStack Query + Amplify Data):
// a list view that renders new records at once, and a detail view that renders updates and
// deletes at once, each rolled back when the server rejects the change.
//
// One deliberate difference from the guide: Amplify Data does not throw on GraphQL errors, it
// returns them in `errors` (and `data: null`). The guide's mutation functions ignore `errors`, so
// TanStack never sees a failure and `onError` never rolls back. Here every mutation function
// throws when `errors` is set, so a rejected change really is rolled back.
import { useState } from 'react';
import { useIsFetching, useMutation, useQuery } from '@tanstack/react-query';
import { generateClient } from 'aws-amplify/data';
import { queryClient } from './queryClient.js';

const client = generateClient();

const LIST_KEY = ['realEstateProperties'];

/** The record of an Amplify Data result, or throw its GraphQL errors. */
function unwrap({ data, errors }) {
  if (errors?.length) {
    throw new Error(errors.map((e) => e.message).join('; '));
  }
  return data;
}

function GlobalLoadingIndicator() {
  const isFetching = useIsFetching();
  return isFetching ? <div className="global-loading" role="progressbar" aria-label="Syncing" /> : null;
}

let optimisticIds = 0;

function ListView({ onSelect }) {
  const [form, setForm] = useState({ name: '', address: '', contactEmail: '' });

  const {
    data: realEstateProperties,
    isLoading,
    isSuccess,
    isError: isErrorQuery,
  } = useQuery({
    queryKey: LIST_KEY,
    queryFn: async () => {
      const response = await client.models.RealEstateProperty.list();
      return unwrap(response) ?? [];
    },
  });

  const createMutation = useMutation({
    mutationFn: async (input) => unwrap(await client.models.RealEstateProperty.create(input)),
    // When mutate is called:
    onMutate: async (newRealEstateProperty) => {
      // Cancel any outgoing refetches (so they don't overwrite our optimistic update)
      await queryClient.cancelQueries({ queryKey: LIST_KEY });
      // Snapshot the previous value
      const previousRealEstateProperties = queryClient.getQueryData(LIST_KEY);
      // Optimistically update to the new value
      if (previousRealEstateProperties) {
        const optimistic = { ...newRealEstateProperty, id: `optimistic-${++optimisticIds}`, pending: true };
        queryClient.setQueryData(LIST_KEY, (old) => [...old, optimistic]);
      }
      // Return a context object with the snapshotted value
      return { previousRealEstateProperties };
    },
    // If the mutation fails, use the context returned from onMutate to roll back
    onError: (err, newRealEstateProperty, context) => {
      console.error('Error saving record:', err, newRealEstateProperty);
      if (context?.previousRealEstateProperties) {
        queryClient.setQueryData(LIST_KEY, context.previousRealEstateProperties);
      }
    },
    // Always refetch after error or success:
    onSettled: () => {
      queryClient.invalidateQueries({ queryKey: LIST_KEY });
    },
  });

  function submit(event) {
    event.preventDefault();
    const input = { name: form.name.trim(), address: form.address.trim() || null };
    if (form.contactEmail.trim()) input.contactEmail = form.contactEmail.trim();
    createMutation.mutate(input, { onSuccess: () => setForm({ name: '', address: '', contactEmail: '' }) });
  }

  const field = (key) => ({
    value: form[key],
    onChange: (e) => setForm((f) => ({ ...f, [key]: e.target.value })),
  });

  return (
    <section className="card">
      <h1>Real Estate Properties</h1>
      <form className="create" onSubmit={submit} aria-label="New property">
        <label>
          Name
          <input name="name" required autoComplete="off" {...field('name')} />
        </label>
        <label>
          Address
          <input name="address" autoComplete="off" {...field('address')} />
        </label>
        <label>
          Contact email
          <input name="contactEmail" autoComplete="off" {...field('contactEmail')} />
        </label>
        <button type="submit" disabled={createMutation.isPending}>
          {createMutation.isPending ? 'Adding Real Estate Property…' : 'Add RealEstateProperty'}
        </button>
      </form>
      <div aria-live="polite" className="status">
        {createMutation.isError && createMutation.error instanceof Error ? (
          <div role="alert" className="error">
            An error occurred: {createMutation.error.message}
          </div>
        ) : null}
        {createMutation.isSuccess ? <div className="success">Real Estate Property added!</div> : null}
      </div>
      {isLoading && <div className="loading">Loading Real Estate Properties…</div>}
      {isErrorQuery && <div role="alert">Problem loading Real Estate Properties</div>}
      {isSuccess && (
        <ul className="properties" aria-label="Properties">
          {realEstateProperties.map((property) =>
            property ? (
              <li key={property.id} className={property.pending ? 'pending' : undefined}>
                <button
                  type="button"
                  className="link"
                  disabled={property.pending}
                  onClick={() => onSelect(property.id)}
                >
                  {property.name}
                </button>
                <span className="address">{property.address}</span>
                {property.pending && <span className="badge">Saving…</span>}
              </li>
            ) : null,
          )}
          {realEstateProperties.length === 0 && <li className="empty">No properties yet.</li>}
        </ul>
      )}
    </section>
  );
}

function DetailView({ id, onBack }) {
  const detailKey = [...LIST_KEY, id];

  const {
    data: realEstateProperty,
    isLoading,
    isSuccess,
    isError: isErrorQuery,
  } = useQuery({
    queryKey: detailKey,
    queryFn: async () => unwrap(await client.models.RealEstateProperty.get({ id })),
  });

  const settle = () => {
    queryClient.invalidateQueries({ queryKey: detailKey });
    queryClient.invalidateQueries({ queryKey: LIST_KEY });
  };

  const updateMutation = useMutation({
    mutationFn: async (details) => unwrap(await client.models.RealEstateProperty.update(details)),
    onMutate: async (newRealEstateProperty) => {
      await queryClient.cancelQueries({ queryKey: detailKey });
      await queryClient.cancelQueries({ queryKey: LIST_KEY });
      const previousRealEstateProperty = queryClient.getQueryData(detailKey);
      if (previousRealEstateProperty) {
        // include the previous values of the fields that are not being updated
        queryClient.setQueryData(detailKey, { ...previousRealEstateProperty, ...newRealEstateProperty });
      }
      return { previousRealEstateProperty };
    },
    onError: (err, newRealEstateProperty, context) => {
      console.error('Error updating record:', err, newRealEstateProperty);
      if (context?.previousRealEstateProperty) {
        queryClient.setQueryData(detailKey, context.previousRealEstateProperty);
      }
    },
    onSettled: settle,
  });

  const deleteMutation = useMutation({
    mutationFn: async (details) => unwrap(await client.models.RealEstateProperty.delete(details)),
    onMutate: async (deleted) => {
      await queryClient.cancelQueries({ queryKey: detailKey });
      await queryClient.cancelQueries({ queryKey: LIST_KEY });
      const previousRealEstateProperty = queryClient.getQueryData(detailKey);
      const previousRealEstateProperties = queryClient.getQueryData(LIST_KEY);
      if (previousRealEstateProperties) {
        queryClient.setQueryData(
          LIST_KEY,
          previousRealEstateProperties.filter((p) => p?.id !== deleted.id),
        );
      }
      return { previousRealEstateProperty, previousRealEstateProperties };
    },
    onError: (err, deleted, context) => {
      console.error('Error deleting record:', err, deleted);
      if (context?.previousRealEstateProperty) {
        queryClient.setQueryData(detailKey, context.previousRealEstateProperty);
      }
      if (context?.previousRealEstateProperties) {
        queryClient.setQueryData(LIST_KEY, context.previousRealEstateProperties);
      }
    },
    onSuccess: () => onBack(),
    onSettled: settle,
  });

  const busy = updateMutation.isPending || deleteMutation.isPending;

  return (
    <section className="card">
      <h2>Real Estate Property Detail View</h2>
      {isErrorQuery && <div role="alert">Problem loading Real Estate Property</div>}
      {isLoading && <div className="loading">Loading Real Estate Property…</div>}
      {isSuccess && realEstateProperty && (
        <dl className="detail">
          <dt>Name</dt>
          <dd data-testid="detail-name">{realEstateProperty.name}</dd>
          <dt>Address</dt>
          <dd data-testid="detail-address">{realEstateProperty.address ?? '—'}</dd>
          <dt>Contact email</dt>
          <dd>{realEstateProperty.contactEmail ?? '—'}</dd>
        </dl>
      )}
      {isSuccess && !realEstateProperty && <p>This property no longer exists.</p>}
      <div aria-live="polite" className="status">
        {updateMutation.isPending && 'Updating Real Estate Property…'}
        {deleteMutation.isPending && 'Deleting Real Estate Property…'}
        {updateMutation.isError && (
          <div role="alert" className="error">
            An error occurred: {updateMutation.error.message}
          </div>
        )}
        {deleteMutation.isError && (
          <div role="alert" className="error">
            An error occurred: {deleteMutation.error.message}
          </div>
        )}
        {updateMutation.isSuccess && <div className="success">Real Estate Property updated!</div>}
      </div>
      {realEstateProperty && (
        <div className="actions">
          <button
            type="button"
            disabled={busy}
            onClick={() => updateMutation.mutate({ id, name: `Updated Home ${Date.now()}` })}
          >
            Update Name
          </button>
          <button
            type="button"
            disabled={busy}
            onClick={() =>
              updateMutation.mutate({ id, address: `${Math.floor(1000 + Math.random() * 9000)} Main St` })
            }
          >
            Update Address
          </button>
          <button type="button" className="danger" disabled={busy} onClick={() => deleteMutation.mutate({ id })}>
            Delete
          </button>
        </div>
      )}
      <button type="button" className="secondary" onClick={onBack}>
        Back
      </button>
    </section>
  );
}

export default function App() {
  const [currentRealEstatePropertyId, setCurrentRealEstatePropertyId] = useState(null);
  return (
    <main>
      <GlobalLoadingIndicator />
      {currentRealEstatePropertyId ? (
        <DetailView
          key={currentRealEstatePropertyId}
          id={currentRealEstatePropertyId}
          onBack={() => setCurrentRealEstatePropertyId(null)}
        />
      ) : (
        <ListView onSelect={setCurrentRealEstatePropertyId} />
      )}
    </main>
  );
}
