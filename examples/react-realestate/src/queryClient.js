import { QueryClient } from '@tanstack/react-query';

// One client for the app (the guide exports it from main.tsx; a module of its own avoids the
// circular import between main and App).
export const queryClient = new QueryClient();
