import { render } from 'preact';
import { LocationProvider, Route, Router, useLocation } from 'preact-iso';
import { useEffect } from 'preact/hooks';
import type { ComponentType } from 'preact';
import { Layout } from './components/Layout';
import { getToken, clearToken } from './lib/auth';
import { setUnauthorizedHandler } from './api/client';
import { SignIn } from './pages/SignIn';
import { Jobs } from './pages/Jobs';
import { JobNew } from './pages/JobNew';
import { JobPage } from './pages/JobPage';
import { FirmwarePage } from './pages/Firmware';
import { Devices } from './pages/Devices';
import { DevicePage } from './pages/DevicePage';
import { Gateways } from './pages/Gateways';
import { NotFound } from './pages/NotFound';
import { Admin } from './pages/Admin';
import './style.css';

/** A page that needs a token: without one, the sign-in page (then back here). */
function authed<P>(Page: ComponentType<P>) {
  return function Authed(props: P & Record<string, unknown>) {
    const { url, route } = useLocation();
    const token = getToken();
    useEffect(() => {
      if (!token) route('/signin?next=' + encodeURIComponent(url), true);
    }, [token, url]);
    if (!token) return null;
    return (
      <Layout>
        <Page {...props} />
      </Layout>
    );
  };
}

function Home() {
  const { route } = useLocation();
  useEffect(() => route(getToken() ? '/jobs' : '/signin', true), []);
  return null;
}

const JobsA = authed(Jobs);
const JobNewA = authed(JobNew);
const JobA = authed(JobPage);
const FirmwareA = authed(FirmwarePage);
const DevicesA = authed(Devices);
const DeviceA = authed(DevicePage);
const GatewaysA = authed(Gateways);
const NotFoundA = authed(NotFound);
const AdminA = authed(Admin);

function Unauthorized() {
  const { url, route } = useLocation();
  useEffect(() => {
    setUnauthorizedHandler(() => {
      clearToken();
      if (!url.startsWith('/signin')) route('/signin?expired=1&next=' + encodeURIComponent(url));
    });
  }, [url]);
  return null;
}

export function App() {
  return (
    <LocationProvider>
      <Unauthorized />
      <Router>
        <Route path="/" component={Home} />
        <Route path="/signin" component={SignIn} />
        <Route path="/jobs" component={JobsA} />
        <Route path="/jobs/new" component={JobNewA} />
        <Route path="/jobs/:id" component={JobA} />
        <Route path="/firmware" component={FirmwareA} />
        <Route path="/devices" component={DevicesA} />
        <Route path="/devices/:eui" component={DeviceA} />
        <Route path="/gateways" component={GatewaysA} />
        <Route path="/admin" component={AdminA} />
        <Route default component={NotFoundA} />
      </Router>
    </LocationProvider>
  );
}

render(<App />, document.getElementById('app')!);
