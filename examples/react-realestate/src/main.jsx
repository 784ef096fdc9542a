import React from 'react';
import ReactDOM from 'react-dom/client';
import { Amplify } from 'aws-amplify';
import { QueryClientProvider } from '@tanstack/react-query';
import outputs from '../amplify_outputs.json';
import App from './App.jsx';
import { queryClient } from './queryClient.js';
import './index.css';

Amplify.configure(outputs);

ReactDOM.createRoot(document.getElementById('root')).render(
  <React.StrictMode>
    <QueryClientProvider client={queryClient}>
      <App />
    </QueryClientProvider>
  </React.StrictMode>,
);
